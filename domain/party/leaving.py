"""Leaving the service (004 § 17-18; 001 § 7): notice of withdrawal, a breach and its cure
period, termination for breach, a forced exit, and a provider's changed qualification
conditions that a municipality must meet within 30 days.

The events are stored under the aggregate's name (``domain.party.aggregate:Party.BreachNotified``
and so on), as ``domain.party.joining`` explains.
"""

from __future__ import annotations

import datetime as dt

import attrs
from eventsourcing.domain import Aggregate

from domain.clauses import RuleBrokenError
from domain.party import rules
from domain.party.record import APPLYING_ROLES, PartyRecord
from domain.party.values import Breach, BreachNotifier, DecisionBody, QualificationChange


class Leaving(PartyRecord):
    """The leaving half of ``Party``: its events and commands (004 § 17-18; 001 § 7)."""

    class WithdrawalNoticeGiven(Aggregate.Event):
        notice_on: dt.date
        effective_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.withdrawal_effective_on = self.effective_on

    class BreachNotified(Aggregate.Event):
        notified_by: BreachNotifier
        notified_on: dt.date
        cure_ends_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.breach = Breach(self.notified_by, self.notified_on, self.cure_ends_on)

    class BreachRemedied(Aggregate.Event):
        remedied_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            assert aggregate.breach is not None  # remedied only while a notice is open
            aggregate.breach = attrs.evolve(aggregate.breach, remedied_on=self.remedied_on)

    class TerminatedForBreach(Aggregate.Event):
        """Disconnected with immediate effect: no access from ``terminated_on``."""

        terminated_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.terminated_on = self.terminated_on

    class ForcedExitRecorded(Aggregate.Event):
        decided_by: DecisionBody
        notified_on: dt.date
        effective_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.forced_exit_on = self.effective_on

    class QualificationChangeNotified(Aggregate.Event):
        provider_organisation: str
        notified_on: dt.date
        comply_by: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.qualification_changes[self.provider_organisation] = QualificationChange(
                self.provider_organisation, self.notified_on, self.comply_by
            )

    class QualificationComplied(Aggregate.Event):
        provider_organisation: str
        complied_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.update_change(self.provider_organisation, complied_on=self.complied_on)

    class ProviderServiceStopped(Aggregate.Event):
        provider_organisation: str
        stopped_on: dt.date

        def apply(self, aggregate: PartyRecord) -> None:
            aggregate.update_change(self.provider_organisation, service_stopped_on=self.stopped_on)

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
