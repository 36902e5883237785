"""Recovery resumes from its tracking record: a restarted process reads only what is new.

The tracking record (ADR 0027) is a low-water mark: every query received at or below it is
closed. A new process (a restart, another worker) starts reading there, not at position 0,
and still closes a query a dead process left open below the newest position.
"""

from __future__ import annotations

import datetime as dt
import uuid

from adapters.persistence.transcodings import query_transcodings
from application.queries import Queries, SagaSettings
from application.recovery import TRACKING_NAME
from domain.providers import STOCKHOLM, Provider
from domain.query.aggregate import Query, QueryStatus
from domain.query.values import LegalBasis, Period, ProviderSelection, Purpose
from infrastructure.settings import Settings
from infrastructure.stores import persistence_env
from tests.fakes import FakeClock, FakePseudonymiser

NOON = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)


def _queries(settings: Settings, clock: FakeClock) -> Queries:
    return Queries(
        env=persistence_env(settings, "queries"),
        base_services={},
        clock=clock,
        pseudonymiser=FakePseudonymiser(),
        transcodings=query_transcodings(),
        settings=SagaSettings(budget_fraction=0.05, abandon_grace_s=30),
    )


def _received(queries: Queries, at: dt.datetime, *, closed: bool) -> Query:
    query = Query.receive(
        query_id=uuid.uuid4(),
        asking_organisation="2120000142",
        caseworker_pseudonym="p" * 32,
        subject_count=1,
        selections=[
            ProviderSelection(Provider.CSN, Period.of(dt.date(2026, 1, 1), dt.date(2026, 2, 1)))
        ],
        purpose=Purpose.FINANCIAL_ASSISTANCE_CASE,
        legal_basis=LegalBasis.SOL_11_KAP_11,
        period=Period.of(dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
        deadline=at + dt.timedelta(seconds=5),
        at=at,
    )
    if closed:
        query.abandon(reason="PROCESS_ENDED", at=at + dt.timedelta(seconds=10))  # any close
    queries.save(query)
    return query


def test_a_restarted_recovery_reads_only_the_log_after_its_tracking_record(
    durable_store_settings: Settings,
) -> None:
    clock = FakeClock(NOON)
    first = _queries(durable_store_settings, clock)
    _history = [_received(first, NOON, closed=True) for _ in range(30)]
    assert first.close_abandoned() == 0
    assert first.recovery.read_last_round == 60  # the whole history, once: no record yet
    mark = first.recovery.low_water_mark
    assert mark == first.recovery.low_water_mark > 0
    assert first.factory.tracking_recorder().max_tracking_id(TRACKING_NAME) == mark
    left_open = _received(first, NOON, closed=False)  # a process dies with it
    fresh = [_received(first, NOON, closed=True) for _ in range(3)]
    first.close()

    clock.advance(dt.timedelta(seconds=60))
    second = _queries(durable_store_settings, clock)  # a restart
    try:
        newest = second.recorder.max_notification_id()
        assert second.close_abandoned() == 1
        assert second.recovery.read_last_round == 1 + 2 * len(fresh)  # only what is new
        assert second.repository.get(left_open.id).status is QueryStatus.ABANDONED
        assert second.factory.tracking_recorder().max_tracking_id(TRACKING_NAME) == newest
    finally:
        second.close()

    third = _queries(durable_store_settings, clock)
    try:
        assert third.close_abandoned() == 0
        assert third.recovery.read_last_round == 1  # only the Abandoned written since
    finally:
        third.close()


def test_the_mark_stays_below_a_query_still_within_its_deadline(
    durable_store_settings: Settings,
) -> None:
    clock = FakeClock(NOON)
    first = _queries(durable_store_settings, clock)
    _received(first, NOON, closed=True)
    running = _received(first, NOON, closed=False)  # still running: not overdue yet
    _received(first, NOON, closed=True)
    assert first.close_abandoned() == 0
    first.close()
    clock.advance(dt.timedelta(seconds=60))  # ... and its process died meanwhile
    second = _queries(durable_store_settings, clock)
    try:
        assert second.close_abandoned() == 1  # the mark kept it in view
        assert second.recovery.read_last_round == 3  # from just below it: Received, then 2
        assert second.repository.get(running.id).status is QueryStatus.ABANDONED
    finally:
        second.close()
