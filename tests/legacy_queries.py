"""A query answered the way it was stored up to ``Query.Compiled`` v2: one
``ProviderAnswered`` event per provider, then a ``Compiled`` without the outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from domain.providers import Provider
from domain.query.aggregate import Query
from domain.query.values import CallOutcome, OutcomeKind


def answer_as_before_v3(
    query: Query, outcomes: Mapping[Provider, Sequence[CallOutcome]], at: dt.datetime
) -> None:
    """Record ``outcomes`` on the received ``query`` in the old form, then deliver and erase."""
    counts = dict.fromkeys(OutcomeKind, 0)
    for provider, calls in outcomes.items():
        for outcome in calls:
            counts[outcome.kind] += 1
        query.trigger_event(
            Query.ProviderAnswered, timestamp=at, provider=provider, outcomes=list(calls)
        )
    query.trigger_event(
        Query.Compiled,
        timestamp=at,
        calls=[],
        answered=counts[OutcomeKind.ANSWERED],
        no_data=counts[OutcomeKind.NO_DATA],
        errors=counts[OutcomeKind.ERROR],
        closed=counts[OutcomeKind.CLOSED],
        not_entitled=counts[OutcomeKind.NOT_ENTITLED],
        protected_identity_notices=0,
    )
    query.deliver(at=at)
    query.erase_case_data(at=at)
