"""The ``Agreement`` aggregate: the SSBTEK agreement's documents, versions and fees.

There is one agreement for the whole service, at a fixed id. It records each version of
each document as announced digitally to the parties in force (000: changes are announced,
not re-signed), each party's acknowledgement of it, and the per-capita fee SKR sets each
year (004 § 13.6). It answers which version of which document governs on a given day,
in the falling order of 001 § 4.1, a later version prevailing over an older one (§ 4.2).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Final

from eventsourcing.domain import Aggregate

from domain.agreement.values import (
    ORE,
    PRECEDENCE,
    AgreementDocument,
    AnnualFee,
    DocumentVersion,
    VersionNumber,
    fee_per_inhabitant,
)
from domain.clauses import RuleBrokenError
from domain.errors import DomainError
from domain.party.rules import local_date

AGREEMENT_ID: Final = uuid.UUID("7e2b9a41-3c5d-4f86-a0b1-c2d3e4f50617")
FIRST_FEE_YEAR: Final = 2015


class UnknownVersionError(DomainError):
    """No such version of the document has been announced."""

    def __init__(self) -> None:
        super().__init__("no such document version")


class Agreement(Aggregate):
    """The agreement documents in force over time, their acknowledgements, and the fees."""

    class Established(Aggregate.Created):
        def apply(self, aggregate: Agreement) -> None:
            pass

    class VersionAnnounced(Aggregate.Event):
        """A version was announced digitally to ``addressees`` (the parties in force)."""

        document: AgreementDocument
        version: str
        effective_from: dt.date
        announced_on: dt.date
        addressees: list[str]

        def apply(self, aggregate: Agreement) -> None:
            version = DocumentVersion(
                self.document, self.version, self.effective_from, self.announced_on
            )
            aggregate.versions.setdefault(self.document, []).append(version)
            aggregate.addressees[(self.document, self.version)] = list(self.addressees)
            aggregate.acknowledgements[(self.document, self.version)] = {}

    class VersionAcknowledged(Aggregate.Event):
        document: AgreementDocument
        version: str
        organisation: str
        acknowledged_on: dt.date

        def apply(self, aggregate: Agreement) -> None:
            acknowledged = aggregate.acknowledgements[(self.document, self.version)]
            acknowledged[self.organisation] = self.acknowledged_on

    class AnnualFeeSet(Aggregate.Event):
        year: int
        per_inhabitant: Decimal
        decided_on: dt.date

        def apply(self, aggregate: Agreement) -> None:
            aggregate.fees[self.year] = AnnualFee(self.year, self.per_inhabitant, self.decided_on)

    def __init__(self) -> None:
        self.versions: dict[AgreementDocument, list[DocumentVersion]] = {}
        self.addressees: dict[tuple[AgreementDocument, str], list[str]] = {}
        self.acknowledgements: dict[tuple[AgreementDocument, str], dict[str, dt.date]] = {}
        self.fees: dict[int, AnnualFee] = {}

    @classmethod
    def establish(cls, *, at: dt.datetime) -> Agreement:
        return cls._create(cls.Established, id=AGREEMENT_ID, timestamp=at)

    # -- versions (001 § 4.2; 000) --------------------------------------------------------------

    def announce(
        self,
        document: AgreementDocument,
        version: VersionNumber,
        effective_from: dt.date,
        *,
        addressees: list[str],
        at: dt.datetime,
    ) -> DocumentVersion:
        """Announce a new version digitally to the parties in force (000)."""
        latest = self.latest_version(document)
        if latest is not None:
            if version.parts <= VersionNumber(latest.version).parts:
                raise RuleBrokenError(
                    "a new version of a document is later than every earlier one", "001 § 4.2"
                )
            if effective_from < latest.effective_from:
                raise RuleBrokenError(
                    "a later version does not take effect before an earlier one", "001 § 4.2"
                )
        self.trigger_event(
            self.VersionAnnounced,
            timestamp=at,
            document=document,
            version=str(version),
            effective_from=effective_from,
            announced_on=local_date(at),
            addressees=sorted(set(addressees)),
        )
        return self.versions[document][-1]

    def acknowledge(
        self,
        document: AgreementDocument,
        version: VersionNumber,
        organisation: str,
        *,
        at: dt.datetime,
    ) -> None:
        """A party acknowledges an announced version."""
        key = (document, str(version))
        if key not in self.addressees:
            raise UnknownVersionError
        if organisation not in self.addressees[key]:
            raise RuleBrokenError(
                "only a party the version was announced to acknowledges it", "000"
            )
        if organisation in self.acknowledgements[key]:
            raise RuleBrokenError("a party acknowledges a version once", "000")
        self.trigger_event(
            self.VersionAcknowledged,
            timestamp=at,
            document=document,
            version=str(version),
            organisation=organisation,
            acknowledged_on=local_date(at),
        )

    def acknowledged(
        self, document: AgreementDocument, version: VersionNumber
    ) -> tuple[dict[str, dt.date], list[str]]:
        """Who acknowledged (and when), and who has not yet, of the version's addressees."""
        key = (document, str(version))
        if key not in self.addressees:
            raise UnknownVersionError
        done = dict(self.acknowledgements[key])
        return done, [p for p in self.addressees[key] if p not in done]

    def latest_version(self, document: AgreementDocument) -> DocumentVersion | None:
        versions = self.versions.get(document, [])
        return versions[-1] if versions else None

    def governing_on(self, day: dt.date) -> list[DocumentVersion]:
        """For each document, the latest version in effect on ``day``, in precedence order
        (001 § 4.1); documents with no version in effect yet are left out."""
        governing = []
        for document in sorted(AgreementDocument, key=lambda d: PRECEDENCE[d]):
            in_effect = [v for v in self.versions.get(document, []) if v.effective_from <= day]
            if in_effect:
                governing.append(in_effect[-1])
        return governing

    # -- fees (004 § 13.6; 000) ----------------------------------------------------------------

    def set_annual_fee(self, year: int, per_inhabitant: Decimal, *, at: dt.datetime) -> AnnualFee:
        """SKR sets the per-capita fee of a year; a later decision for the year replaces it."""
        if year < FIRST_FEE_YEAR:
            raise RuleBrokenError("the annual fee exists from 2015", "000")
        self.trigger_event(
            self.AnnualFeeSet,
            timestamp=at,
            year=year,
            per_inhabitant=fee_per_inhabitant(per_inhabitant),
            decided_on=local_date(at),
        )
        return self.fees[year]

    def fee_for(self, year: int) -> AnnualFee:
        """The fee SKR set for ``year``; if it set none, the latest earlier year's fee stands
        (000: 0.60 SEK per inhabitant *from* 2018)."""
        earlier = [y for y in self.fees if y <= year]
        if not earlier:
            raise RuleBrokenError("SKR has set no annual fee for the year", "004 § 13.6")
        return self.fees[max(earlier)]

    def invoice_amount(self, year: int, population: int) -> Decimal:
        """The year's fee for a municipality of ``population`` inhabitants, in SEK and öre."""
        if population < 0:
            raise RuleBrokenError("a population is not negative", "004 § 13.6")
        return (self.fee_for(year).per_inhabitant * population).quantize(ORE)
