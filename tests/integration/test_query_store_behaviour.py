"""One behaviour suite, run on the in-memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.utils import get_topic

from application.errors import DuplicateQueryError, InvalidRequestError
from application.queries import Queries
from domain.providers import STOCKHOLM, Provider
from domain.query.aggregate import Query, QueryStatus, RejectionReason
from domain.query.values import CallOutcome, EntryPoint, ErrorSource, OutcomeKind
from infrastructure.composition import build_queries
from infrastructure.settings import Settings
from tests.fakes import FakeBaseService, FakeClock, fake_base_services
from tests.unit.application.test_query_saga import SUBJECTS, command

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)


def open_queries(settings: Settings, services: dict[Provider, FakeBaseService]) -> Queries:
    return build_queries(settings, base_services=services, clock=FakeClock(NOW))


@pytest.fixture
def services() -> dict[Provider, FakeBaseService]:
    return fake_base_services(skatteverket="fail", csn="hang")


@pytest.fixture
def queries(
    store_settings: Settings, services: dict[Provider, FakeBaseService]
) -> Iterator[Queries]:
    app = open_queries(store_settings, services)
    yield app
    app.close()


def stored(queries: Queries) -> list[object]:
    return [
        queries.mapper.to_domain_event(n) for n in queries.recorder.select_notifications(1, 1000)
    ]


async def test_an_answered_query_is_stored_and_replays_to_an_erased_query(queries: Queries) -> None:
    answer = await queries.submit(command(SUBJECTS[:3]))
    replayed: Query = queries.repository.get(answer.query_id)
    assert isinstance(replayed, Query)
    assert replayed.status is QueryStatus.ERASED
    assert replayed.subject_count == 3
    assert replayed.asking_organisation == "2120000142"
    assert set(replayed.outcomes) == set(Provider)
    assert replayed.outcomes[Provider.ARBETSFORMEDLINGEN] == [
        CallOutcome(i, OutcomeKind.ANSWERED, o.latency_ms)
        for i, o in enumerate(replayed.outcomes[Provider.ARBETSFORMEDLINGEN])
    ]


async def test_each_outcome_keeps_its_error_source_code_and_latency(queries: Queries) -> None:
    answer = await queries.submit(command())
    replayed: Query = queries.repository.get(answer.query_id)
    (skv,) = replayed.outcomes[Provider.SKATTEVERKET]
    (csn,) = replayed.outcomes[Provider.CSN]
    assert (skv.kind, skv.error_source, skv.error_code) == (
        OutcomeKind.ERROR,
        ErrorSource.BT,
        "1001",
    )
    assert (csn.kind, csn.error_source, csn.error_code) == (
        OutcomeKind.ERROR,
        ErrorSource.SSBT,
        "TIMEOUT",
    )
    assert csn.latency_ms >= 300


async def test_the_notification_log_holds_the_whole_trail_in_order(queries: Queries) -> None:
    await queries.submit(command())
    await queries.submit(command(SUBJECTS[1:2]))
    names = [type(e).__name__ for e in stored(queries)]
    one_query = ["Received", "Compiled", "Delivered", "CaseDataErased"]
    assert names == one_query * 2
    received = stored(queries)[0]
    assert isinstance(received, Query.Received)
    assert received.selections[0].provider is Provider.ARBETSFORMEDLINGEN
    assert received.period.start == dt.date(2026, 5, 1)
    assert received.timestamp == NOW


async def test_a_rejected_query_is_stored_with_reason_and_field_names(queries: Queries) -> None:
    with pytest.raises(InvalidRequestError):
        await queries.submit(command(("19121212-1213",)))
    (rejected,) = stored(queries)
    assert isinstance(rejected, Query.Rejected)
    assert rejected.reason is RejectionReason.INVALID_ARGUMENT
    assert rejected.fields == ["subjects[0]"]


async def test_a_retry_after_a_restart_is_still_recognised(
    durable_store_settings: Settings, services: dict[Provider, FakeBaseService]
) -> None:
    store_settings = durable_store_settings
    first = open_queries(store_settings, services)
    await first.submit(command(client_request_id="case-system-req-77"))
    first.close()
    second = open_queries(store_settings, services)
    try:
        with pytest.raises(DuplicateQueryError):
            await second.submit(command(client_request_id="case-system-req-77"))
        names = [type(e).__name__ for e in stored(second)]
        assert names.count("Received") == 1
        assert names[-1] == "Rejected"
    finally:
        second.close()


async def test_a_compiled_event_stored_before_not_entitled_existed_reads_as_none_refused(
    queries: Queries,
) -> None:
    """Event schema evolution: Query.Compiled v1 (no ``not_entitled``) upcasts to v2."""
    answer = await queries.submit(command())
    (compiled,) = [e for e in stored(queries) if isinstance(e, Query.Compiled)]
    stored_v2 = queries.mapper.to_stored_event(compiled)
    state = queries.mapper.transcoder.decode(stored_v2.state)
    del state["not_entitled"]
    del state["calls"]
    del state["class_version"]
    stored_v1 = type(stored_v2)(
        originator_id=stored_v2.originator_id,
        originator_version=stored_v2.originator_version,
        topic=stored_v2.topic,
        state=queries.mapper.transcoder.encode(state),
    )
    upcast = queries.mapper.to_domain_event(stored_v1)
    assert isinstance(upcast, Query.Compiled)
    assert upcast.not_entitled == 0
    assert upcast.calls == []
    assert upcast.answered == compiled.answered
    assert upcast.originator_id == answer.query_id


async def test_received_and_rejected_stored_before_the_entry_point_read_as_grpc(
    queries: Queries,
) -> None:
    """Event schema evolution: Received and Rejected v1 had no entry point; only the gRPC
    API existed then, so they upcast to v2 with ``GRPC``."""
    await queries.submit(command())
    with pytest.raises(InvalidRequestError):
        await queries.submit(command(("not a personnummer",)))
    for kind in (Query.Received, Query.Rejected):
        (event,) = [e for e in stored(queries) if isinstance(e, kind)]
        assert event.entry_point is EntryPoint.GRPC
        stored_v2 = queries.mapper.to_stored_event(event)
        state = queries.mapper.transcoder.decode(stored_v2.state)
        assert state.pop("class_version") == (3 if kind is Query.Rejected else 2)
        del state["entry_point"]
        if kind is Query.Rejected:  # version 3 added who made the call (ADR 24)
            del state["caller"], state["claimed_organisation"]
        stored_v1 = dataclasses.replace(stored_v2, state=queries.mapper.transcoder.encode(state))
        upcast = queries.mapper.to_domain_event(stored_v1)
        assert isinstance(upcast, kind)
        assert upcast.entry_point is EntryPoint.GRPC
        assert upcast.asking_organisation == event.asking_organisation


async def test_a_stream_from_before_compiled_v3_replays_with_its_provider_answered_events(
    queries: Queries,
) -> None:
    """Event schema evolution: up to Compiled v2 each provider's outcomes were a
    ``ProviderAnswered`` event of their own. Such a stream still replays to the same query."""
    answer = await queries.submit(command(SUBJECTS[:2]))
    current: Query = queries.repository.get(answer.query_id)
    received, compiled, delivered, erased = queries.recorder.select_events(answer.query_id)
    legacy_id = uuid.uuid4()
    transcoder = queries.mapper.transcoder
    legacy = [dataclasses.replace(received, originator_id=legacy_id)]
    compiled_state = transcoder.decode(compiled.state)
    for calls in compiled_state.pop("calls"):
        legacy.append(
            dataclasses.replace(
                compiled,
                originator_id=legacy_id,
                originator_version=len(legacy) + 1,
                topic=get_topic(Query.ProviderAnswered),
                state=transcoder.encode(
                    {
                        "timestamp": compiled_state["timestamp"],
                        "provider": calls.provider,
                        "outcomes": list(calls.outcomes),
                    }
                ),
            )
        )
    compiled_state["class_version"] = 2
    for event, state in ((compiled, compiled_state), (delivered, None), (erased, None)):
        legacy.append(
            dataclasses.replace(
                event,
                originator_id=legacy_id,
                originator_version=len(legacy) + 1,
                state=event.state if state is None else transcoder.encode(state),
            )
        )
    queries.recorder.insert_events(legacy)

    replayed: Query = queries.repository.get(legacy_id)
    assert replayed.status is QueryStatus.ERASED
    assert len(replayed.outcomes) == len(Provider)
    assert replayed.outcomes == current.outcomes
