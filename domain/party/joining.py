"""Joining the service (004 § 9): a signatory founded as an existing party, or a municipality
or data provider that applies, is accepted by every existing party, is commissioned to the
operator, sends its signed order form, and is approved and connected.

The events are stored under the aggregate's name (``domain.party.aggregate:Party.Founded``
and so on): the library defines each event class of ``Joining`` again on ``Party``, in
``Party``'s module, and ``tests/unit/adapters/test_stored_events_keep_their_topics`` pins it.
"""

from __future__ import annotations

import datetime as dt
from typing import Self

from eventsourcing.domain import Aggregate

from domain.calendar import WorkingCalendar
from domain.clauses import RuleBrokenError
from domain.party import rules
from domain.party.record import APPLYING_ROLES, PartyRecord, party_id
from domain.party.values import OrderForm, PartyRole, PartyStatus
from domain.providers import Provider


class Joining(PartyRecord):
    """The joining half of ``Party``: its events and commands (004 § 9)."""

    class Founded(Aggregate.Created):
        """A signatory of the Överenskommelse, recorded as an existing party."""

        organisation: str
        name: str
        roles: list[PartyRole]
        provider: Provider | None
        in_force_from: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.identify(self.organisation, self.name, self.roles, self.provider)
            aggregate.stage = PartyStatus.CONNECTED
            aggregate.in_force_from = self.in_force_from

    class Applied(Aggregate.Created):
        """Applied to SKR (004 § 9.1.1); ``required_acceptances``: the existing parties."""

        organisation: str
        name: str
        roles: list[PartyRole]
        provider: Provider | None
        applied_on: dt.date
        required_acceptances: list[str]

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.identify(self.organisation, self.name, self.roles, self.provider)
            aggregate.required_acceptances = list(self.required_acceptances)

    class AcceptanceRecorded(Aggregate.Event):
        accepted_by: str
        accepted_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.acceptances[self.accepted_by] = self.accepted_on

    class Qualified(Aggregate.Event):
        qualified_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.stage = PartyStatus.QUALIFIED

    class OperatorCommissioned(Aggregate.Event):
        commissioned_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.stage = PartyStatus.COMMISSIONED

    class OrderFormReceived(Aggregate.Event):
        form: OrderForm
        received_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.stage = PartyStatus.INTEGRATION_REQUESTED

    class IntegrationApproved(Aggregate.Event):
        approved_on: dt.date
        connection_target: dt.date | None

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.stage = PartyStatus.INTEGRATION_APPROVED
            aggregate.connection_target = self.connection_target

    class Connected(Aggregate.Event):
        """Actual access enabled: the connection agreement is in force from this day."""

        in_force_from: dt.date
        within_target: bool | None

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.stage = PartyStatus.CONNECTED
            aggregate.in_force_from = self.in_force_from
            aggregate.connected_within_target = self.within_target

    @classmethod
    def found(
        cls,
        *,
        organisation: str,
        name: str,
        roles: frozenset[PartyRole],
        provider: Provider | None,
        at: dt.datetime,
    ) -> Self:
        """Record a signatory of the Överenskommelse (SKR, the operator, a data provider)."""
        if not roles or PartyRole.MUNICIPALITY in roles:
            raise RuleBrokenError(
                "a municipality joins through the connection procedure, not as a founder",
                "004 § 9.2",
            )
        _check_provider(roles, provider)
        return cls._create(
            cls.Founded,
            id=party_id(organisation),
            timestamp=at,
            organisation=organisation,
            name=name,
            roles=sorted(roles, key=lambda r: r.value),
            provider=provider,
            in_force_from=rules.local_date(at),
        )

    @classmethod
    def apply_to_join(
        cls,
        *,
        organisation: str,
        name: str,
        role: PartyRole,
        provider: Provider | None,
        existing_parties: list[str],
        at: dt.datetime,
    ) -> Self:
        """Apply to SKR; every party existing now must accept (004 § 9.1.1-9.1.2)."""
        if role not in APPLYING_ROLES:
            raise RuleBrokenError(
                "only a municipality or a data provider applies to join", "004 § 9.1.1"
            )
        _check_provider(frozenset({role}), provider)
        party = cls._create(
            cls.Applied,
            id=party_id(organisation),
            timestamp=at,
            organisation=organisation,
            name=name,
            roles=[role],
            provider=provider,
            applied_on=rules.local_date(at),
            required_acceptances=sorted(set(existing_parties) - {organisation}),
        )
        if not party.required_acceptances:
            party.trigger_event(cls.Qualified, timestamp=at, qualified_on=rules.local_date(at))
        return party

    def accept(self, accepted_by: str, *, at: dt.datetime) -> None:
        """An existing party tells SKR it accepts the new party (004 § 9.1.4)."""
        self._require_stage(
            PartyStatus.APPLIED,
            "acceptances are recorded while the party waits for them",
            "004 § 9.1.4",
        )
        if accepted_by not in self.required_acceptances:
            raise RuleBrokenError(
                "only a party that existed when the application was made accepts it",
                "004 § 9.1.2",
            )
        if accepted_by in self.acceptances:
            raise RuleBrokenError("a party accepts a new party once", "004 § 9.1.4")
        day = rules.local_date(at)
        self.trigger_event(
            self.AcceptanceRecorded, timestamp=at, accepted_by=accepted_by, accepted_on=day
        )
        if not self.pending_acceptances:
            self.trigger_event(self.Qualified, timestamp=at, qualified_on=day)

    @property
    def pending_acceptances(self) -> list[str]:
        return [p for p in self.required_acceptances if p not in self.acceptances]

    def commission_operator(self, *, at: dt.datetime) -> None:
        """SKR commissions the operator to connect the party (004 § 9.1.5)."""
        self._require_stage(
            PartyStatus.QUALIFIED,
            "SKR commissions the operator only after every existing party has accepted",
            "004 § 9.1.5",
        )
        self.trigger_event(
            self.OperatorCommissioned, timestamp=at, commissioned_on=rules.local_date(at)
        )

    def submit_order_form(self, form: OrderForm, *, at: dt.datetime) -> None:
        """The signed order form (a provider: connection agreement) reaches the operator."""
        municipality = PartyRole.MUNICIPALITY in self.roles
        self._require_stage(
            PartyStatus.COMMISSIONED,
            "the technical integration is requested after SKR has commissioned the operator",
            "004 § 9.2.3" if municipality else "004 § 9.3.2",
        )
        if not form.signed_by_authorised_representative:
            raise RuleBrokenError(
                "the order form is signed by an authorised representative",
                "004 § 9.2.5" if municipality else "004 § 9.3.4",
            )
        if not (form.power_of_attorney_attached and form.proof_of_authority_attached):
            raise RuleBrokenError(
                "the order form is incomplete without a power of attorney and proof of authority",
                "004 § 9.2.6" if municipality else "004 § 9.3.5",
            )
        day = rules.local_date(at)
        if form.signed_on > day:
            raise RuleBrokenError("the order form cannot be signed in the future", "004 § 9.2.5")
        self.trigger_event(self.OrderFormReceived, timestamp=at, form=form, received_on=day)

    def approve_integration(self, *, at: dt.datetime, calendar: WorkingCalendar) -> None:
        """The operator approves the integration; a municipality's connection target is set."""
        self._require_stage(
            PartyStatus.INTEGRATION_REQUESTED,
            "the operator approves an integration once the signed order form has arrived",
            "004 § 9.2.7",
        )
        day = rules.local_date(at)
        target = (
            rules.connection_target(day, calendar) if PartyRole.MUNICIPALITY in self.roles else None
        )
        self.trigger_event(
            self.IntegrationApproved, timestamp=at, approved_on=day, connection_target=target
        )

    def connect(self, *, at: dt.datetime) -> None:
        """Actual access is enabled; the agreement is in force from this day (004 § 9.2.8)."""
        self._require_stage(
            PartyStatus.INTEGRATION_APPROVED,
            "the operator connects a party after approving its integration",
            "004 § 9.2.7",
        )
        day = rules.local_date(at)
        if PartyRole.MUNICIPALITY in self.roles and not self.has_vehicle_register_consent(day):
            raise RuleBrokenError(
                "a municipality is connected only with a written consent for direct access "
                "to the vehicle register",
                "002",
            )
        target = self.connection_target
        self.trigger_event(
            self.Connected,
            timestamp=at,
            in_force_from=day,
            within_target=None if target is None else day <= target,
        )


def _check_provider(roles: frozenset[PartyRole], provider: Provider | None) -> None:
    if (PartyRole.DATA_PROVIDER in roles) != (provider is not None):
        raise RuleBrokenError(
            "a data provider names the base service it provides, and only a data provider does",
            "004 Bilaga 2",
        )
