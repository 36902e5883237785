"""A replay filtered by organisation through the index of positions by organisation (ADR
0027) gives exactly what the replay that reads every event and filters gives: the same
events, in the same order, with the same positions to resume from; on SQLite and
PostgreSQL, over a history of several organisations and months, refusals by caller
(including ORGANISATION_MISMATCH and a refusal stored before callers were recorded),
retries and abandoned queries; and when the index is behind the log or missing."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator

import attrs
import pytest
from eventsourcing.persistence import StoredEvent

from adapters.persistence.stored_format import LibraryJsonFormat
from application.audit.replay import Replay, ReplayedEvent, ReplayFilter
from application.errors import InvalidRequestError, PermissionDeniedError
from application.queries import Queries
from domain.providers import STOCKHOLM, Provider
from infrastructure.composition import (
    build_position_index,
    build_queries,
    build_replay,
    build_replay_indexer,
    open_audit_copy,
    prepare,
    replay_index_role,
    replay_indexes,
)
from infrastructure.settings import Settings
from tests.fakes import FakeBaseService, FakeClock, fake_base_services
from tests.unit.application.test_query_saga import command

A = "2120000142"
B = "2120000159"
C = "2120000126"
ORGANISATIONS = {A: "212000-0142", B: "212000-0159", C: "212000-0126"}
START = dt.datetime(2026, 10, 28, 9, 0, tzinfo=STOCKHOLM)


@pytest.fixture
def world(
    durable_store_settings: Settings,
) -> Iterator[tuple[Queries, FakeClock, dict[Provider, FakeBaseService]]]:
    clock = FakeClock(START)
    services = fake_base_services()
    queries = build_queries(
        attrs.evolve(durable_store_settings, rate_limit=""),
        base_services=services,
        clock=clock,
    )
    yield queries, clock, services
    queries.close()


def _v2_refusal(organisation: str, reason: str, at: dt.datetime) -> bytes:
    """A refusal as ``Rejected`` version 2 stored it (no caller)."""
    return (
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"%s"},'
        b'"originator_topic":"domain.query.aggregate:Query","asking_organisation":"%s",'
        b'"reason":{"_type_":"ssbtek.rejection_reason","_data_":"%s"},"fields":[],'
        b'"entry_point":{"_type_":"ssbtek.entry_point","_data_":"GRPC"},"class_version":2}'
    ) % (at.isoformat().encode(), organisation.encode(), reason.encode())


async def _history(
    queries: Queries, clock: FakeClock, services: dict[Provider, FakeBaseService]
) -> None:
    """About five weeks over a month's end: answered queries of three organisations, refusals
    by caller, old refusals, retries of a cancelled query, and a query left open."""
    for day in range(36):
        for turn, organisation in enumerate((A, B, A, C, A, B)):
            clock.advance(dt.timedelta(minutes=7))
            named = ORGANISATIONS[organisation]
            await queries.submit(
                command(organisation_number=named, authenticated_organisation=organisation)
            )
            if (day + turn) % 5 == 0:  # the caller claims another organisation
                other = B if organisation != B else C
                with pytest.raises(PermissionDeniedError):
                    await queries.submit(
                        command(
                            organisation_number=ORGANISATIONS[other],
                            authenticated_organisation=organisation,
                        )
                    )
            if (day + turn) % 7 == 0:  # a bad request
                with pytest.raises(InvalidRequestError):
                    await queries.submit(
                        command(
                            ("not a personnummer",),
                            organisation_number=named,
                            authenticated_organisation=organisation,
                        )
                    )
        if day % 6 == 0:  # stored before callers were recorded
            for reason in ("ORGANISATION_MISMATCH", "CASEWORKER_UNKNOWN"):
                queries.recorder.insert_events(
                    [
                        StoredEvent(
                            uuid.uuid4(),
                            1,
                            "domain.query.aggregate:Query.Rejected",
                            _v2_refusal(B, reason, clock.now()),
                        )
                    ]
                )
        if day % 9 == 0:  # cancelled, then retried with the same request id and answered
            services[Provider.CSN].mode = "hang"
            request = f"retry-{day}"
            first = asyncio.create_task(
                queries.submit(
                    command(
                        client_request_id=request,
                        organisation_number=ORGANISATIONS[C],
                        authenticated_organisation=C,
                    )
                )
            )
            await asyncio.sleep(0.05)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            services[Provider.CSN].mode = "answer"
            clock.advance(dt.timedelta(seconds=2))
            await queries.submit(
                command(
                    client_request_id=request,
                    organisation_number=ORGANISATIONS[C],
                    authenticated_organisation=C,
                )
            )
        clock.advance(dt.timedelta(hours=23))


def _seen(events: list[ReplayedEvent]) -> list[tuple[str, int, str, str, int, str]]:
    return [
        (e.application, e.position, e.topic, e.originator_id, e.originator_version, e.state)
        for e in events
    ]


FILTERS = [
    ReplayFilter(asking_organisations=frozenset({A})),
    ReplayFilter(asking_organisations=frozenset({B})),
    ReplayFilter(callers=frozenset({A})),
    ReplayFilter(callers=frozenset({B, C})),
    ReplayFilter(asking_organisations=frozenset({A}), callers=frozenset({A})),
    ReplayFilter(asking_organisations=frozenset({A, B}), callers=frozenset({B})),
    ReplayFilter(
        asking_organisations=frozenset({A}),
        since=dt.datetime(2026, 11, 1, tzinfo=STOCKHOLM),
        until=dt.datetime(2026, 12, 1, tzinfo=STOCKHOLM),
    ),
    ReplayFilter(
        callers=frozenset({C}),
        event_types=frozenset({"Query.Retried", "Query.Delivered", "Query.Cancelled"}),
        since=dt.datetime(2026, 11, 1, tzinfo=STOCKHOLM),
        until=dt.datetime(2026, 12, 1, tzinfo=STOCKHOLM),
    ),
    ReplayFilter(
        asking_organisations=frozenset({B}),
        event_types=frozenset({"Query.Rejected"}),
        since=dt.datetime(2026, 11, 5, tzinfo=STOCKHOLM),
        until=dt.datetime(2026, 11, 20, tzinfo=STOCKHOLM),
    ),
]


async def test_the_indexed_replay_gives_what_reading_every_event_gives(
    world: tuple[Queries, FakeClock, dict[Provider, FakeBaseService]],
) -> None:
    queries, clock, services = world
    await _history(queries, clock, services)
    topics = {n.topic.rpartition(":")[2] for n in queries.recorder.select_notifications(1, 10**6)}
    assert {"Query.Rejected", "Query.Retried", "Query.Cancelled", "Query.Delivered"} <= topics
    index = build_position_index(queries.recorder, create=True)
    assert index is not None
    logs = {"queries": queries.recorder}
    reference = Replay(logs, LibraryJsonFormat(), batch=7)
    last = queries.recorder.max_notification_id() or 0
    recorder = queries.recorder

    # the index missing (its table empty), behind the log, and caught up
    split = next(  # the index stops just after a query's first event, before its others
        n.id
        for n in recorder.select_notifications(last // 3, last)
        if n.topic.endswith("Query.Received")
    )
    stages = [0, split, last]
    for stage in stages:
        restarted = build_replay_indexer(queries.recorder, index)  # as a new process would
        assert restarted is not None
        restarted.catch_up(upto=stage)
        assert index.indexed_upto() == (
            max((n.id for n in recorder.select_notifications(1, last, stop=stage)), default=0)
            if stage
            else 0
        )
        indexed = build_replay(logs, indexes={"queries": index}, batch=7)
        for chosen in FILTERS:
            expected = list(reference.events(chosen))
            assert expected, chosen  # every filter finds something in this history
            assert _seen(list(indexed.events(chosen))) == _seen(expected), (stage, chosen)
            # resumed from events spread over what it gave, it gives the same rest
            for at in sorted({len(expected) * k // 4 for k in range(4)} | {len(expected) - 1}):
                after = {"queries": expected[at].position}
                assert _seen(list(indexed.events(chosen, after))) == _seen(
                    list(reference.events(chosen, after))
                ), (stage, chosen, at)
            streamed = [e async for e in indexed.stream(chosen)]
            assert _seen(streamed) == _seen(expected)


async def test_the_index_reads_only_that_organisations_events_and_what_it_has_not_reached(
    world: tuple[Queries, FakeClock, dict[Provider, FakeBaseService]],
) -> None:
    queries, clock, services = world
    await _history(queries, clock, services)
    index = build_position_index(queries.recorder, create=True)
    indexer = build_replay_indexer(queries.recorder, index)
    assert index is not None
    assert indexer is not None
    indexer.catch_up()
    read: list[int] = []
    recorder = queries.recorder
    original = recorder.select_notifications

    def counted(*args: object, **kwargs: object) -> object:
        found = original(*args, **kwargs)  # type: ignore[arg-type]
        read.extend(n.id for n in found)
        return found

    recorder.select_notifications = counted  # type: ignore[method-assign,assignment]
    chosen = ReplayFilter(asking_organisations=frozenset({C}))
    replayed = list(build_replay({"queries": recorder}, indexes={"queries": index}).events(chosen))
    assert replayed
    assert read == []  # nothing read from the log itself: the index is at its head
    clock.advance(dt.timedelta(minutes=1))
    await queries.submit(
        command(organisation_number=ORGANISATIONS[A], authenticated_organisation=A)
    )
    again = list(build_replay({"queries": recorder}, indexes={"queries": index}).events(chosen))
    assert again == replayed
    assert read  # the tail the index has not reached, and only that
    assert min(read) > index.indexed_upto()


async def test_the_service_prepares_and_keeps_the_index_and_an_auditors_copy_reads_it(
    durable_store_settings: Settings,
) -> None:
    settings = attrs.evolve(durable_store_settings, rate_limit="")
    prepare(settings)  # the index's table with the others
    clock = FakeClock(START)
    queries = build_queries(settings, base_services=fake_base_services(), clock=clock)
    try:
        for organisation in (A, B, A, C):
            clock.advance(dt.timedelta(minutes=3))
            await queries.submit(
                command(
                    organisation_number=ORGANISATIONS[organisation],
                    authenticated_organisation=organisation,
                )
            )
        indexes = replay_indexes({"queries": queries.recorder})
        assert indexes["queries"].indexed_upto() == 0
        step = replay_index_role(queries, settings)  # what the background role runs
        assert step is not None
        assert step() == queries.recorder.max_notification_id()
        assert indexes["queries"].indexed_upto() == queries.recorder.max_notification_id()
        chosen = ReplayFilter(asking_organisations=frozenset({A}))
        expected = list(Replay({"queries": queries.recorder}, LibraryJsonFormat()).events(chosen))
    finally:
        queries.close()
    copy = open_audit_copy(settings)  # what ``ssbtek audit replay --organisation`` opens
    try:
        assert _seen(list(copy.trail.replay(chosen))) == _seen(expected)
        assert len({e.originator_id for e in expected}) == 2
    finally:
        copy.close()
