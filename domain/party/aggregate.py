"""The ``Party`` aggregate: one party to the SSBTEK agreement, by organisation number.

It records onboarding (004 § 9), the municipality's vehicle-register consent (002) and
leaving (004 § 17-18; 001 § 7). Each event says what happened, on which Swedish day, and
when it takes effect; the days come from the moment passed in (``at``), never from a clock
of the domain's own. A municipality's caseworkers live in their own aggregate
(``domain.party.roster``), since they change far more often than the party does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Final
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate

from domain.calendar import WorkingCalendar
from domain.clauses import RuleBrokenError
from domain.party import rules
from domain.party.values import (
    ONBOARDING_ORDER,
    Breach,
    BreachNotifier,
    Deadlines,
    DecisionBody,
    OrderForm,
    PartyRole,
    PartyStatus,
    QualificationChange,
)
from domain.providers import Provider

PARTY_NAMESPACE: Final = uuid.UUID("5b0c8f0e-2d7e-4c61-9f3a-3f1e0a6b8d21")
APPLYING_ROLES: Final = frozenset({PartyRole.MUNICIPALITY, PartyRole.DATA_PROVIDER})


def party_id(organisation: str) -> UUID:
    """A party's aggregate id: a name-based UUID of its organisation number's ten digits."""
    return uuid.uuid5(PARTY_NAMESPACE, organisation)


class Party(Aggregate):
    """A municipality, data provider, the operator or SKR, and what the agreement says of it."""

    class Founded(Aggregate.Created):
        """A signatory of the Överenskommelse, recorded as an existing party."""

        organisation: str
        name: str
        roles: list[PartyRole]
        provider: Provider | None
        in_force_from: dt.date

        def apply(self, aggregate: Any) -> None:
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

        def apply(self, aggregate: Any) -> None:
            aggregate.identify(self.organisation, self.name, self.roles, self.provider)
            aggregate.required_acceptances = list(self.required_acceptances)

    class AcceptanceRecorded(Aggregate.Event):
        accepted_by: str
        accepted_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.acceptances[self.accepted_by] = self.accepted_on

    class Qualified(Aggregate.Event):
        qualified_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = PartyStatus.QUALIFIED

    class OperatorCommissioned(Aggregate.Event):
        commissioned_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = PartyStatus.COMMISSIONED

    class OrderFormReceived(Aggregate.Event):
        form: OrderForm
        received_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = PartyStatus.INTEGRATION_REQUESTED

    class IntegrationApproved(Aggregate.Event):
        approved_on: dt.date
        connection_target: dt.date | None

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = PartyStatus.INTEGRATION_APPROVED
            aggregate.connection_target = self.connection_target

    class Connected(Aggregate.Event):
        """Actual access enabled: the connection agreement is in force from this day."""

        in_force_from: dt.date
        within_target: bool | None

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = PartyStatus.CONNECTED
            aggregate.in_force_from = self.in_force_from
            aggregate.connected_within_target = self.within_target

    class VehicleRegisterConsentRecorded(Aggregate.Event):
        granted_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.consent_granted_on = self.granted_on
            aggregate.consent_withdrawn_on = None

    class VehicleRegisterConsentWithdrawn(Aggregate.Event):
        withdrawn_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.consent_withdrawn_on = self.withdrawn_on

    class WithdrawalNoticeGiven(Aggregate.Event):
        notice_on: dt.date
        effective_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.withdrawal_effective_on = self.effective_on

    class BreachNotified(Aggregate.Event):
        notified_by: BreachNotifier
        notified_on: dt.date
        cure_ends_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.breach = Breach(self.notified_by, self.notified_on, self.cure_ends_on)

    class BreachRemedied(Aggregate.Event):
        remedied_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.breach = attrs.evolve(aggregate.breach, remedied_on=self.remedied_on)

    class TerminatedForBreach(Aggregate.Event):
        """Disconnected with immediate effect: no access from ``terminated_on``."""

        terminated_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.terminated_on = self.terminated_on

    class ForcedExitRecorded(Aggregate.Event):
        decided_by: DecisionBody
        notified_on: dt.date
        effective_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.forced_exit_on = self.effective_on

    class QualificationChangeNotified(Aggregate.Event):
        provider_organisation: str
        notified_on: dt.date
        comply_by: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.qualification_changes[self.provider_organisation] = QualificationChange(
                self.provider_organisation, self.notified_on, self.comply_by
            )

    class QualificationComplied(Aggregate.Event):
        provider_organisation: str
        complied_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.update_change(self.provider_organisation, complied_on=self.complied_on)

    class ProviderServiceStopped(Aggregate.Event):
        provider_organisation: str
        stopped_on: dt.date

        def apply(self, aggregate: Any) -> None:
            aggregate.update_change(self.provider_organisation, service_stopped_on=self.stopped_on)

    def __init__(self) -> None:
        self.organisation = ""
        self.name = ""
        self.roles: frozenset[PartyRole] = frozenset()
        self.provider: Provider | None = None
        self.stage = PartyStatus.APPLIED
        self.required_acceptances: list[str] = []
        self.acceptances: dict[str, dt.date] = {}
        self.connection_target: dt.date | None = None
        self.connected_within_target: bool | None = None
        self.in_force_from: dt.date | None = None
        self.consent_granted_on: dt.date | None = None
        self.consent_withdrawn_on: dt.date | None = None
        self.withdrawal_effective_on: dt.date | None = None
        self.breach: Breach | None = None
        self.terminated_on: dt.date | None = None
        self.forced_exit_on: dt.date | None = None
        self.qualification_changes: dict[str, QualificationChange] = {}

    def identify(
        self, organisation: str, name: str, roles: list[PartyRole], provider: Provider | None
    ) -> None:
        self.organisation, self.name, self.provider = organisation, name, provider
        self.roles = frozenset(roles)

    def update_change(self, provider_organisation: str, **changes: Any) -> None:
        change = self.qualification_changes[provider_organisation]
        self.qualification_changes[provider_organisation] = attrs.evolve(change, **changes)

    # -- joining (004 § 9) ------------------------------------------------------------------

    @classmethod
    def found(
        cls,
        *,
        organisation: str,
        name: str,
        roles: frozenset[PartyRole],
        provider: Provider | None,
        at: dt.datetime,
    ) -> Party:
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
    ) -> Party:
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

    # -- the vehicle register (002) -----------------------------------------------------------

    def record_vehicle_register_consent(self, granted_on: dt.date, *, at: dt.datetime) -> None:
        self._require_municipality("002")
        self._require_present(at)
        if granted_on > rules.local_date(at):
            raise RuleBrokenError("a consent cannot be granted in the future", "002")
        self.trigger_event(self.VehicleRegisterConsentRecorded, timestamp=at, granted_on=granted_on)

    def withdraw_vehicle_register_consent(self, *, at: dt.datetime) -> None:
        self._require_municipality("002")
        if not self.has_vehicle_register_consent(rules.local_date(at)):
            raise RuleBrokenError("there is no consent to withdraw", "002")
        self.trigger_event(
            self.VehicleRegisterConsentWithdrawn, timestamp=at, withdrawn_on=rules.local_date(at)
        )

    def has_vehicle_register_consent(self, day: dt.date) -> bool:
        granted, withdrawn = self.consent_granted_on, self.consent_withdrawn_on
        return granted is not None and granted <= day and (withdrawn is None or withdrawn > day)

    # -- leaving (004 § 17-18; 001 § 7) ------------------------------------------------------

    def give_withdrawal_notice(self, *, at: dt.datetime) -> None:
        """Written notice; the party leaves on 31 December (004 § 17.1). Fees paid are kept
        (004 § 17.2): nothing here refunds them."""
        if not self.roles & APPLYING_ROLES:
            raise RuleBrokenError(
                "a municipality or a data provider withdraws by notice", "004 § 17.1"
            )
        self._require_connected(at, "004 § 17.1")
        if self.withdrawal_effective_on is not None:
            raise RuleBrokenError("notice of withdrawal has already been given", "004 § 17.1")
        day = rules.local_date(at)
        self.trigger_event(
            self.WithdrawalNoticeGiven,
            timestamp=at,
            notice_on=day,
            effective_on=rules.withdrawal_effective_on(day),
        )

    def notify_breach(self, notified_by: BreachNotifier, *, at: dt.datetime) -> None:
        """A written notice of a material breach starts the cure period."""
        clause = rules.CLAUSE_CURE[notified_by]
        if notified_by is BreachNotifier.OPERATOR:
            self._require_municipality(clause)
        self._require_connected(at, clause)
        if self.breach is not None and self.breach.remedied_on is None:
            raise RuleBrokenError("a breach notice is already open", clause)
        day = rules.local_date(at)
        self.trigger_event(
            self.BreachNotified,
            timestamp=at,
            notified_by=notified_by,
            notified_on=day,
            cure_ends_on=rules.cure_period_ends_on(day, notified_by),
        )

    def record_breach_remedied(self, *, at: dt.datetime) -> None:
        breach = self._open_breach()
        self._require_present(at)
        day = rules.local_date(at)
        if day > breach.cure_ends_on:
            raise RuleBrokenError(
                "the cure period has ended", rules.CLAUSE_CURE[breach.notified_by]
            )
        self.trigger_event(self.BreachRemedied, timestamp=at, remedied_on=day)

    def terminate_for_breach(self, *, at: dt.datetime) -> None:
        """The operator disconnects the party once the cure period has ended uncured."""
        breach = self._open_breach()
        clause = rules.CLAUSE_CURE[breach.notified_by]
        self._require_present(at)
        day = rules.local_date(at)
        if day <= breach.cure_ends_on:
            raise RuleBrokenError("the cure period has not ended", clause)
        self.trigger_event(self.TerminatedForBreach, timestamp=at, terminated_on=day)

    def _open_breach(self) -> Breach:
        if self.breach is None or self.breach.remedied_on is not None:
            raise RuleBrokenError("there is no open breach notice", "004 § 18.1")
        return self.breach

    def record_forced_exit(
        self, decided_by: DecisionBody, effective_on: dt.date, *, at: dt.datetime
    ) -> None:
        """A decision by parliament, government, court or authority forces an earlier exit;
        ``effective_on`` is the first day without access (004 § 17.3)."""
        self._require_connected(at, "004 § 17.3")
        day = rules.local_date(at)
        if effective_on < day:
            raise RuleBrokenError("a forced exit is not recorded after the fact", "004 § 17.3")
        if self.forced_exit_on is not None:
            raise RuleBrokenError("a forced exit is already recorded", "004 § 17.3")
        self.trigger_event(
            self.ForcedExitRecorded,
            timestamp=at,
            decided_by=decided_by,
            notified_on=day,
            effective_on=effective_on,
        )

    def notify_qualification_change(self, provider_organisation: str, *, at: dt.datetime) -> None:
        """A provider's qualification conditions changed: 30 days to comply (001 § 7.2)."""
        self._require_municipality("001 § 7.2")
        self._require_connected(at, "001 § 7.2")
        known = self.qualification_changes.get(provider_organisation)
        if known is not None and known.is_open:
            raise RuleBrokenError("the provider's earlier notice is still open", "001 § 7.2")
        day = rules.local_date(at)
        self.trigger_event(
            self.QualificationChangeNotified,
            timestamp=at,
            provider_organisation=provider_organisation,
            notified_on=day,
            comply_by=rules.comply_by(day),
        )

    def record_qualification_compliance(
        self, provider_organisation: str, *, at: dt.datetime
    ) -> None:
        change = self._open_change(provider_organisation)
        day = rules.local_date(at)
        if day > change.comply_by:
            raise RuleBrokenError("the 30 days to comply have ended", "001 § 7.2")
        self.trigger_event(
            self.QualificationComplied,
            timestamp=at,
            provider_organisation=provider_organisation,
            complied_on=day,
        )

    def stop_provider_service(self, provider_organisation: str, *, at: dt.datetime) -> None:
        """The provider stops serving the municipality after 30 days without compliance."""
        change = self._open_change(provider_organisation)
        day = rules.local_date(at)
        if day <= change.comply_by:
            raise RuleBrokenError("the 30 days to comply have not ended", "001 § 7.2")
        self.trigger_event(
            self.ProviderServiceStopped,
            timestamp=at,
            provider_organisation=provider_organisation,
            stopped_on=day,
        )

    def _open_change(self, provider_organisation: str) -> QualificationChange:
        change = self.qualification_changes.get(provider_organisation)
        if change is None or not change.is_open:
            raise RuleBrokenError(
                "the provider has no open notice of changed conditions", "001 § 7.2"
            )
        return change

    @property
    def stopped_providers(self) -> list[str]:
        """Providers that no longer serve this municipality (001 § 7.2)."""
        return sorted(
            c.provider_organisation
            for c in self.qualification_changes.values()
            if c.service_stopped_on is not None
        )

    # -- status ------------------------------------------------------------------------------

    def status_on(self, day: dt.date) -> PartyStatus:
        endings = [
            (ends_on, status)
            for ends_on, status in (
                (_day_after(self.withdrawal_effective_on), PartyStatus.WITHDRAWN),
                (self.terminated_on, PartyStatus.TERMINATED),
                (self.forced_exit_on, PartyStatus.EXITED),
            )
            if ends_on is not None and ends_on <= day
        ]
        if endings:
            return min(endings, key=lambda ending: ending[0])[1]
        return self.stage

    def is_connected_on(self, day: dt.date) -> bool:
        return (
            self.status_on(day) is PartyStatus.CONNECTED
            and self.in_force_from is not None
            and self.in_force_from <= day
        )

    def may_query_on(self, day: dt.date) -> bool:
        """A connected municipality's caseworkers may query (004 § 9.2.8)."""
        return PartyRole.MUNICIPALITY in self.roles and self.is_connected_on(day)

    def deadlines(self) -> Deadlines:
        breach = self.breach
        open_breach = breach is not None and breach.remedied_on is None
        return Deadlines(
            connection_target=self.connection_target,
            connected_within_target=self.connected_within_target,
            withdrawal_effective_on=self.withdrawal_effective_on,
            cure_period_ends_on=breach.cure_ends_on if breach and open_breach else None,
            cure_notified_by=breach.notified_by if breach and open_breach else None,
            forced_exit_on=self.forced_exit_on,
            compliance_deadlines=tuple(c for c in self.qualification_changes.values() if c.is_open),
        )

    def require_roster_open(self, at: dt.datetime) -> None:
        """Caseworkers are a municipality's, and change only while it has not left."""
        self._require_municipality("004 § 9.2.9")
        self._require_present(at)

    # -- guards ------------------------------------------------------------------------------

    def _require_stage(self, stage: PartyStatus, rule: str, clause: str) -> None:
        if self.stage is not stage:
            raise RuleBrokenError(rule, clause)

    def _require_municipality(self, clause: str) -> None:
        if PartyRole.MUNICIPALITY not in self.roles:
            raise RuleBrokenError("this applies to a municipality only", clause)

    def _require_present(self, at: dt.datetime) -> None:
        if self.status_on(rules.local_date(at)) not in ONBOARDING_ORDER:
            raise RuleBrokenError("the party has left the service", "004 § 17")

    def _require_connected(self, at: dt.datetime, clause: str) -> None:
        self._require_present(at)
        if not self.is_connected_on(rules.local_date(at)):
            raise RuleBrokenError("the party is not connected", clause)


def _day_after(day: dt.date | None) -> dt.date | None:
    return None if day is None else day + dt.timedelta(days=1)


def _check_provider(roles: frozenset[PartyRole], provider: Provider | None) -> None:
    if (PartyRole.DATA_PROVIDER in roles) != (provider is not None):
        raise RuleBrokenError(
            "a data provider names the base service it provides, and only a data provider does",
            "004 Bilaga 2",
        )
