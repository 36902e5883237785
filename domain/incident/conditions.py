"""What a compiled query says about the service: the conditions that open incidents by themselves.

Bilaga 4 § 3.8: the service is unavailable when answers do not come at all; when two or
more providers cannot deliver, it is "available with disturbance" and an incident must be
opened at the operator's single point of contact. § 3.3.3 grades incidents by the users'
impact, and the priority is the impact's. The rules (ADR 0010), applied to each compiled
query:

=========================  ===============================================  =====================
condition                  a query shows it when                            impact (priority)
=========================  ===============================================  =====================
``NO_ANSWER``              calls were made and not one was answered         flow broken (1)
``PROVIDERS_UNAVAILABLE``  two or more providers failed at least one call   time-outs (2) if one
                                                                            of them timed out,
                                                                            else single calls (4)
``TIMEOUTS``               at least one call timed out (SSBT ``TIMEOUT``)   time-outs (2)
``CALLS_UNANSWERED``       at least one call failed otherwise               single calls (4)
=========================  ===============================================  =====================

A provider that was closed, that the municipality is not entitled to, that has left the
service or that stopped serving the municipality was not called; that is not a failure.
Nor is a call the service refused itself (SSBT ``UNAVAILABLE`` while the provider's circuit
breaker is open, ``TOO_MANY_CALLS`` when its bulkhead is full, ADR 20): the failures that
tripped the breaker opened the incident, and a refused call can tell neither that the
provider is still down nor that it recovered. A condition concerns the providers that
failed in that way. It clears at a later query that does not show it and that called at
least one of the providers it concerns (for ``NO_ANSWER``: any provider): a query that did
not ask them cannot tell whether they recovered.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

import attrs

from domain.incident.service_levels import Impact, Priority
from domain.providers import Provider
from domain.query.values import (
    NOT_ASKED,
    NOT_CALLED,
    CallOutcome,
    ErrorSource,
    OutcomeKind,
    ServiceErrorCode,
)

_ANSWERED = frozenset({OutcomeKind.ANSWERED, OutcomeKind.NO_DATA})


class Condition(enum.Enum):
    """A condition of the service that must have an incident, most severe first."""

    NO_ANSWER = "NO_ANSWER"
    PROVIDERS_UNAVAILABLE = "PROVIDERS_UNAVAILABLE"
    TIMEOUTS = "TIMEOUTS"
    CALLS_UNANSWERED = "CALLS_UNANSWERED"


def _not_called(outcome: CallOutcome) -> bool:
    return outcome.kind in NOT_CALLED or (
        outcome.error_source is ErrorSource.SSBT and outcome.error_code in NOT_ASKED
    )


def _timed_out(outcome: CallOutcome) -> bool:
    return (
        outcome.kind is OutcomeKind.ERROR
        and outcome.error_source is ErrorSource.SSBT
        and outcome.error_code == ServiceErrorCode.TIMEOUT.value
    )


@attrs.frozen
class QueryObservation:
    """The non-personal facts of one compiled query that the conditions are read from."""

    called: frozenset[Provider]
    timed_out: frozenset[Provider]
    errored: frozenset[Provider]
    """Providers with a failed call that was not a time-out."""
    answered_calls: int
    failed_calls: int

    @classmethod
    def of(cls, outcomes: Mapping[Provider, Sequence[CallOutcome]]) -> QueryObservation:
        called: set[Provider] = set()
        timed_out: set[Provider] = set()
        errored: set[Provider] = set()
        answered = failed = 0
        for provider, calls in outcomes.items():
            for outcome in calls:
                if _not_called(outcome):
                    continue
                called.add(provider)
                if outcome.kind in _ANSWERED:
                    answered += 1
                    continue
                failed += 1
                (timed_out if _timed_out(outcome) else errored).add(provider)
        return cls(frozenset(called), frozenset(timed_out), frozenset(errored), answered, failed)

    @property
    def failed(self) -> frozenset[Provider]:
        return self.timed_out | self.errored

    def shows(self, condition: Condition) -> bool:
        match condition:
            case Condition.NO_ANSWER:
                return self.failed_calls > 0 and self.answered_calls == 0
            case Condition.PROVIDERS_UNAVAILABLE:
                return len(self.failed) >= 2
            case Condition.TIMEOUTS:
                return bool(self.timed_out)
            case Condition.CALLS_UNANSWERED:
                return bool(self.errored)

    def concerned(self, condition: Condition) -> frozenset[Provider]:
        """The providers a condition this query shows is about."""
        match condition:
            case Condition.TIMEOUTS:
                return self.timed_out
            case Condition.CALLS_UNANSWERED:
                return self.errored
            case _:
                return self.failed

    def impact(self, condition: Condition) -> Impact:
        """The users' impact (§ 3.3.3) an incident for this condition records; its priority
        is the impact's (``Impact.priority``). Two or more failing providers make the service
        "available with disturbance" (§ 3.8): every caseworker still gets an answer, without
        those providers' parts, so the impact is what those calls show: time-outs (2) when one
        of them timed out, else single calls that cannot be answered (4)."""
        match condition:
            case Condition.NO_ANSWER:
                return Impact.FLOW_BROKEN
            case Condition.TIMEOUTS:
                return Impact.TIMEOUTS
            case Condition.CALLS_UNANSWERED:
                return Impact.SINGLE_CALLS_UNANSWERED
            case Condition.PROVIDERS_UNAVAILABLE:
                return Impact.TIMEOUTS if self.timed_out else Impact.SINGLE_CALLS_UNANSWERED

    def priority(self, condition: Condition) -> Priority:
        """The priority an incident for ``condition`` gets from this query: its impact's."""
        return self.impact(condition).priority

    @property
    def most_severe(self) -> Condition | None:
        """The first condition this query shows; a new incident for it covers the lesser
        ones unless they rank above it (``Monitor``)."""
        return next((c for c in Condition if self.shows(c)), None)

    def clears(self, condition: Condition, concerned: frozenset[Provider]) -> bool:
        """Whether this query shows that ``condition``, about ``concerned``, has cleared."""
        if self.shows(condition):
            return False
        if condition is Condition.NO_ANSWER:
            return self.answered_calls > 0
        return bool(self.called & concerned)
