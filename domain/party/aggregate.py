"""The ``Party`` aggregate: one party to the SSBTEK agreement, by organisation number.

It records onboarding (004 § 9, ``domain.party.joining``), the municipality's vehicle-register
consent (002, here) and leaving (004 § 17-18; 001 § 7, ``domain.party.leaving``), on the state
and rules of ``domain.party.record``. Each event says what happened, on which Swedish day, and
when it takes effect; the days come from the moment passed in (``at``), never from a clock
of the domain's own. A municipality's caseworkers live in their own aggregate
(``domain.party.roster``), since they change far more often than the party does.

Every event is stored under this module and ``Party`` (``domain.party.aggregate:Party.Connected``),
as before the halves moved to their own modules: the library defines the event classes of
``Joining`` and ``Leaving`` again on ``Party``.
"""

from __future__ import annotations

import datetime as dt

from eventsourcing.domain import Aggregate

from domain.clauses import RuleBrokenError
from domain.party import rules
from domain.party.joining import Joining
from domain.party.leaving import Leaving
from domain.party.record import APPLYING_ROLES, PARTY_NAMESPACE, party_id

__all__ = ["APPLYING_ROLES", "PARTY_NAMESPACE", "Party", "party_id"]


class Party(Joining, Leaving):
    """A municipality, data provider, the operator or SKR, and what the agreement says of it."""

    class VehicleRegisterConsentRecorded(Aggregate.Event):
        granted_on: dt.date

        def apply(self, aggregate: Party) -> None:
            aggregate.consent_granted_on = self.granted_on
            aggregate.consent_withdrawn_on = None

    class VehicleRegisterConsentWithdrawn(Aggregate.Event):
        withdrawn_on: dt.date

        def apply(self, aggregate: Party) -> None:
            aggregate.consent_withdrawn_on = self.withdrawn_on

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

    def require_roster_open(self, at: dt.datetime) -> None:
        """Caseworkers are a municipality's, and change only while it has not left."""
        self._require_municipality("004 § 9.2.9")
        self._require_present(at)
