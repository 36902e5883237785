"""A retry with the same client request id (ADR 6, issue 23): a query that was never answered
runs again and is answered; one that was answered is refused with when it was delivered; one
whose first call may still be running is refused with when to come back. One id never gets
two delivered answers."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from uuid import UUID

import pytest

from adapters.persistence.transcodings import query_transcodings
from application.errors import (
    AuditUnavailableError,
    DuplicateQueryError,
    QueryInProgressError,
)
from application.queries import Queries, SagaSettings
from domain.identity import OrganisationNumber
from domain.providers import Provider
from domain.query.aggregate import Query, QueryStatus
from domain.query.values import LegalBasis, Period, ProviderSelection, Purpose
from tests.fakes import FakeBaseService, FakeClock, FakePseudonymiser, fake_base_services
from tests.unit.application.test_query_saga import WEDNESDAY_NOON, command, stored_events

FAST = SagaSettings(budget_fraction=0.05)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WEDNESDAY_NOON)


@pytest.fixture
def services() -> dict[Provider, FakeBaseService]:
    return fake_base_services()


@pytest.fixture
def queries(services: dict[Provider, FakeBaseService], clock: FakeClock) -> Iterator[Queries]:
    app = Queries(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        base_services=services,
        clock=clock,
        pseudonymiser=FakePseudonymiser(),
        transcodings=query_transcodings(),
        settings=FAST,
    )
    yield app
    app.close()


def names(queries: Queries) -> list[str]:
    return [type(e).__name__ for e in stored_events(queries)]


async def test_a_retry_of_a_cancelled_query_runs_again_and_is_answered(
    queries: Queries, services: dict[Provider, FakeBaseService], clock: FakeClock
) -> None:
    services[Provider.CSN].mode = "hang"
    first = asyncio.create_task(queries.submit(command(client_request_id="r-1")))
    await asyncio.sleep(0.1)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    services[Provider.CSN].mode = "answer"
    clock.advance(dt.timedelta(seconds=2))
    answer = await queries.submit(command(client_request_id="r-1"))
    query: Query = queries.repository.get(answer.query_id)
    assert query.status is QueryStatus.ERASED
    assert query.attempt == 2
    assert names(queries) == [
        "Received",
        "Cancelled",
        "Retried",
        "Compiled",
        "Delivered",
        "CaseDataErased",
    ]


async def test_a_retry_after_the_trail_was_unavailable_is_answered(
    queries: Queries, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    """The answer's save failed: the caller got UNAVAILABLE; the same id then gets its answer,
    and the trail says why the first attempt was not answered."""
    real_save = queries.save
    failures = [OSError("connection lost")]

    def save_once_broken(*events: object, **kwargs: object) -> object:
        if failures and any(type(e).__name__ == "Delivered" for e in events):
            raise failures.pop()
        return real_save(*events, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(queries, "save", save_once_broken)
    with pytest.raises(AuditUnavailableError):
        await queries.submit(command(client_request_id="r-2"))
    for _ in range(100):  # the probe sees the store answer again; the attempt is closed
        if "Abandoned" in names(queries):
            break
        await asyncio.sleep(0.05)
    assert names(queries) == ["Received", "Abandoned"]
    abandoned = stored_events(queries)[-1]
    assert isinstance(abandoned, Query.Abandoned)
    assert abandoned.reason == "AUDIT_UNAVAILABLE"
    answer = await queries.submit(command(client_request_id="r-2"))
    assert queries.repository.get(answer.query_id).status is QueryStatus.ERASED


async def test_a_retry_of_a_delivered_answer_is_refused_with_when_it_was_delivered(
    queries: Queries, services: dict[Provider, FakeBaseService], clock: FakeClock
) -> None:
    first = await queries.submit(command(client_request_id="r-3"))
    clock.advance(dt.timedelta(minutes=5))
    with pytest.raises(DuplicateQueryError) as refused:
        await queries.submit(command(client_request_id="r-3"))
    assert refused.value.query_id == first.query_id
    assert refused.value.delivered_at == WEDNESDAY_NOON
    assert refused.value.state == "ERASED"
    assert len(services[Provider.CSN].calls) == 1


async def test_an_attempt_left_open_is_taken_over_only_after_its_service_level(
    queries: Queries, clock: FakeClock
) -> None:
    """A ``Received`` whose write landed after the caller was refused, or whose process died:
    within the service level its call may still answer it; after it, a retry runs again."""
    query_id = queries._query_id(OrganisationNumber.parse("212000-0142"), "r-4")
    left = _received_only(queries, query_id)
    assert left.status is QueryStatus.RECEIVED
    clock.advance(dt.timedelta(seconds=3))
    with pytest.raises(QueryInProgressError) as refused:
        await queries.submit(command(client_request_id="r-4"))
    assert 4.0 <= refused.value.retry_after_s <= 5.1
    clock.advance(dt.timedelta(seconds=6))
    answer = await queries.submit(command(client_request_id="r-4"))
    assert answer.query_id == query_id
    assert names(queries) == [
        "Received",
        "Abandoned",
        "Retried",
        "Compiled",
        "Delivered",
        "CaseDataErased",
    ]
    abandoned = stored_events(queries)[1]
    assert isinstance(abandoned, Query.Abandoned)
    assert abandoned.reason == "NOT_ANSWERED"


async def test_concurrent_retries_of_an_unanswered_query_deliver_one_answer(
    queries: Queries, services: dict[Provider, FakeBaseService], clock: FakeClock
) -> None:
    services[Provider.CSN].mode = "hang"
    first = asyncio.create_task(queries.submit(command(client_request_id="r-5")))
    await asyncio.sleep(0.1)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    services[Provider.CSN].mode = "answer"
    for service in services.values():
        service.delay_s = 0.05
    results = await asyncio.gather(
        *(queries.submit(command(client_request_id="r-5")) for _ in range(4)),
        return_exceptions=True,
    )
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds.count("CompiledAnswer") == 1, kinds
    assert set(kinds) <= {"CompiledAnswer", "QueryInProgressError"}
    assert names(queries).count("Delivered") == 1


def _received_only(queries: Queries, query_id: UUID) -> Query:
    """What a process that died, or a write that landed after its refusal, leaves behind."""
    period = Period.of(dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    opened = Query.receive(
        query_id=query_id,
        asking_organisation="2120000142",
        caseworker_pseudonym="p" * 32,
        subject_count=1,
        selections=[ProviderSelection(Provider.CSN, period)],
        purpose=Purpose.FINANCIAL_ASSISTANCE_CASE,
        legal_basis=LegalBasis.SOL_11_KAP_11,
        period=period,
        deadline=WEDNESDAY_NOON + dt.timedelta(seconds=5),
        at=WEDNESDAY_NOON,
    )
    queries.save(opened)
    return opened
