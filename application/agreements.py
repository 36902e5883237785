"""``Agreements``: the agreement documents and their versions, acknowledgements, and fees.

Which parties a change is announced to, and whether an organisation is a municipality,
come from a ``PartyDirectory`` (the ``Parties`` application is one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import ClassVar, Protocol, TypeVar

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Transcoding

from application.base import ServiceApplication
from application.errors import InvalidRequestError, NotFoundError, RuleViolationError
from application.party_views import (
    Acceptance,
    Acknowledgements,
    GoverningDocument,
    Invoice,
    formatted,
)
from application.ports import Clock
from application.rule_errors import field, reported
from domain.agreement.aggregate import AGREEMENT_ID, Agreement
from domain.agreement.values import AgreementDocument, AnnualFee, DocumentVersion, VersionNumber
from domain.errors import FieldViolation
from domain.identity import OrganisationNumber
from domain.party.rules import local_date
from domain.party.values import PartyRole

T = TypeVar("T")


class PartyDirectory(Protocol):
    """Who the parties are: what the agreement needs to know of them."""

    def organisations_in_force(self, on: dt.date) -> list[str]:
        """Ten-digit organisation numbers of the parties connected on ``on``."""
        ...

    def roles_of(self, organisation: str) -> frozenset[PartyRole] | None:
        """The party's roles, or ``None`` when the organisation is not a party."""
        ...


class Agreements(ServiceApplication):
    """The one SSBTEK agreement: documents, versions, acknowledgements and annual fees."""

    name = "Agreements"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "10"}

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        clock: Clock,
        directory: PartyDirectory,
        transcodings: Sequence[Transcoding],
    ) -> None:
        self._clock = clock
        self._directory = directory
        super().__init__(env=env, transcodings=transcodings)

    # -- documents (001 § 4; 000) -------------------------------------------------------------

    def announce_version(
        self, document: AgreementDocument, version: str, effective_from: dt.date
    ) -> DocumentVersion:
        """Announce a version digitally to every party in force today (000)."""
        number = _version(version)
        at = self._clock.now()
        addressees = self._directory.organisations_in_force(local_date(at))
        return self._change(
            lambda a: a.announce(document, number, effective_from, addressees=addressees, at=at)
        )

    def acknowledge(
        self, document: AgreementDocument, version: str, organisation_number: str
    ) -> Acknowledgements:
        number = _version(version)
        organisation = _organisation(organisation_number)
        at = self._clock.now()
        self._change(lambda a: a.acknowledge(document, number, organisation, at=at))
        return self.acknowledgements(document, version)

    def acknowledgements(self, document: AgreementDocument, version: str) -> Acknowledgements:
        number = _version(version)
        with reported("document version"):
            done, pending = self._read().acknowledged(document, number)
        return Acknowledgements(
            document=document,
            version=str(number),
            acknowledged=tuple(Acceptance(formatted(o), d) for o, d in sorted(done.items())),
            pending=tuple(formatted(o) for o in pending),
        )

    def governing_documents(self, on: dt.date | None = None) -> list[GoverningDocument]:
        """Which version of which document governs on ``on`` (default today), by precedence."""
        day = on or local_date(self._clock.now())
        return [GoverningDocument.of(v) for v in self._read().governing_on(day)]

    def versions(self) -> list[DocumentVersion]:
        agreement = self._read()
        return [v for document in AgreementDocument for v in agreement.versions.get(document, [])]

    # -- fees (004 § 13.6; 000) ---------------------------------------------------------------

    def set_annual_fee(self, year: int, per_inhabitant: Decimal) -> AnnualFee:
        at = self._clock.now()
        with field("per_inhabitant"):
            return self._change(lambda a: a.set_annual_fee(year, per_inhabitant, at=at))

    def annual_fees(self) -> list[AnnualFee]:
        fees = self._read().fees
        return [fees[year] for year in sorted(fees)]

    def invoice(self, organisation_number: str, year: int, population: int) -> Invoice:
        """A municipality's fee for ``year``: the per-capita fee times its population, in öre."""
        organisation = _organisation(organisation_number)
        if population < 0:
            raise InvalidRequestError([FieldViolation("population", "must not be negative")])
        roles = self._directory.roles_of(organisation)
        if roles is None:
            raise NotFoundError("party")
        if PartyRole.MUNICIPALITY not in roles:
            raise RuleViolationError("only a municipality pays the per-capita fee", "004 § 13.6")
        agreement = self._read()
        with reported("agreement"):
            fee = agreement.fee_for(year)
            amount = agreement.invoice_amount(year, population)
        return Invoice(formatted(organisation), year, population, fee.per_inhabitant, amount)

    # -- helpers ---------------------------------------------------------------------------

    def _change(self, change: Callable[[Agreement], T]) -> T:
        at = self._clock.now()
        with reported("agreement"):
            try:
                agreement: Agreement = self.repository.get(AGREEMENT_ID)
            except AggregateNotFoundError:
                agreement = Agreement.establish(at=at)
            result = change(agreement)
            self.save(agreement)
        return result

    def _read(self) -> Agreement:
        """The agreement as it stands (empty before anything was announced); read only."""
        try:
            agreement: Agreement = self.repository.get(AGREEMENT_ID, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return Agreement.establish(at=self._clock.now())
        return agreement


def _version(raw: str) -> VersionNumber:
    with field("version"):
        return VersionNumber.parse(raw)


def _organisation(raw: str) -> str:
    with field("organisation_number"):
        return OrganisationNumber.parse(raw).digits
