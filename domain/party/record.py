"""What a party is and where it stands: the state the ``Party`` aggregate's events build, and
the rules every step reads (its status on a day, its deadlines, the guards).

``domain.party.joining`` (004 § 9) and ``domain.party.leaving`` (004 § 17-18; 001 § 7) add
the two halves of a party's life to this record; ``domain.party.aggregate.Party`` joins them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Final
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate

from domain.clauses import RuleBrokenError
from domain.party import rules
from domain.party.values import (
    ONBOARDING_ORDER,
    Breach,
    Deadlines,
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


class PartyRecord(Aggregate):
    """A party's state; never stored under this name (``Party`` is the aggregate)."""

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

    def has_vehicle_register_consent(self, day: dt.date) -> bool:
        granted, withdrawn = self.consent_granted_on, self.consent_withdrawn_on
        return granted is not None and granted <= day and (withdrawn is None or withdrawn > day)

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
