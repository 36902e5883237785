"""What the Parties and Agreements applications answer: plain values, no personal data.

Caseworkers appear only by pseudonym; organisation numbers (public) as ``NNNNNN-NNNN``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from domain.agreement.values import PRECEDENCE, AgreementDocument, DocumentVersion
from domain.party.aggregate import Party
from domain.party.values import (
    Caseworker,
    CaseworkerState,
    Deadlines,
    PartyRole,
    PartyStatus,
    RemovalReason,
)
from domain.providers import Provider


def formatted(organisation: str) -> str:
    """Ten digits as an organisation number is written: ``NNNNNN-NNNN``."""
    return f"{organisation[:6]}-{organisation[6:]}"


@attrs.frozen
class Acceptance:
    organisation_number: str
    accepted_on: dt.date


@attrs.frozen
class PartyView:
    """A party as it stands on ``as_of``."""

    organisation_number: str
    name: str
    roles: tuple[PartyRole, ...]
    provider: Provider | None
    status: PartyStatus
    as_of: dt.date
    acceptances: tuple[Acceptance, ...]
    pending_acceptances: tuple[str, ...]
    in_force_from: dt.date | None
    vehicle_register_consent: bool
    stopped_providers: tuple[str, ...]
    deadlines: Deadlines

    @property
    def connection_overdue(self) -> bool:
        """Approved but not connected after the 10-working-day target (004 § 9.2.7)."""
        target = self.deadlines.connection_target
        return (
            self.status is PartyStatus.INTEGRATION_APPROVED and target is not None
        ) and self.as_of > target

    @classmethod
    def of(cls, party: Party, day: dt.date) -> PartyView:
        deadlines = party.deadlines()
        return cls(
            organisation_number=formatted(party.organisation),
            name=party.name,
            roles=tuple(sorted(party.roles, key=lambda r: list(PartyRole).index(r))),
            provider=party.provider,
            status=party.status_on(day),
            as_of=day,
            acceptances=tuple(
                Acceptance(formatted(o), d) for o, d in sorted(party.acceptances.items())
            ),
            pending_acceptances=tuple(formatted(o) for o in party.pending_acceptances),
            in_force_from=party.in_force_from,
            vehicle_register_consent=party.has_vehicle_register_consent(day),
            stopped_providers=tuple(formatted(o) for o in party.stopped_providers),
            deadlines=attrs.evolve(
                deadlines,
                compliance_deadlines=tuple(
                    attrs.evolve(c, provider_organisation=formatted(c.provider_organisation))
                    for c in deadlines.compliance_deadlines
                ),
            ),
        )


@attrs.frozen
class CaseworkerView:
    """A caseworker by pseudonym: the id itself is never kept, so it is never shown."""

    pseudonym: str
    state: CaseworkerState
    registered_on: dt.date
    assurance_signed_on: dt.date | None
    revoked_on: dt.date | None
    removed_on: dt.date | None
    removal_reason: RemovalReason | None

    @classmethod
    def of(cls, caseworker: Caseworker) -> CaseworkerView:
        return cls(
            pseudonym=caseworker.pseudonym,
            state=caseworker.state,
            registered_on=caseworker.registered_on,
            assurance_signed_on=caseworker.assurance_signed_on,
            revoked_on=caseworker.revoked_on,
            removed_on=caseworker.removed_on,
            removal_reason=caseworker.removal_reason,
        )


@attrs.frozen
class GoverningDocument:
    """A document version that governs on a day, with its rank in 001 § 4.1 (1 is highest)."""

    rank: int
    version: DocumentVersion

    @classmethod
    def of(cls, version: DocumentVersion) -> GoverningDocument:
        return cls(PRECEDENCE[version.document], version)


@attrs.frozen
class Acknowledgements:
    """Who acknowledged an announced version, and who has not yet."""

    document: AgreementDocument
    version: str
    acknowledged: tuple[Acceptance, ...]
    pending: tuple[str, ...]


@attrs.frozen
class Invoice:
    """A municipality's annual fee: the year's per-capita fee times its population."""

    organisation_number: str
    year: int
    population: int
    per_inhabitant: Decimal
    amount: Decimal
