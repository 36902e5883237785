"""A call its client cancelled, or whose deadline passed, is counted and logged as such.

Over a real gRPC channel (grpc's own client): the access log, the Prometheus counter and
the audit trail all say ``CANCELLED`` or ``DEADLINE_EXCEEDED``, never ``OK`` / ``ANSWERED``
/ ``Delivered`` (ADR 20). An answer compiled after the caller's deadline is not released.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from prometheus_client import CollectorRegistry

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.server import build_server
from adapters.metrics.prometheus import PrometheusMetrics
from adapters.providers.simulated import (
    NO_LATENCY,
    SimulatedBaseService,
    SimulationProfile,
    build_simulated_base_services,
)
from application.errors import DeadlineExceededError
from application.ports import BaseService
from application.queries import Queries
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.aggregate import CancelReason, Query
from domain.query.answer import ProviderAnswer
from domain.query.values import Period
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock, fake_base_services
from tests.integration.test_query_refusals_over_grpc import request
from tests.unit.application.test_query_saga import WEDNESDAY_NOON, command

SETTINGS = Settings(store=Store.MEMORY, pseudonym_key_hex="26" * 32, rate_limit="")


class StallingBaseService(SimulatedBaseService):
    """Holds the whole event loop (as a starved server would) before it answers."""

    def __init__(self, provider: Provider, stall_s: float) -> None:
        super().__init__(provider, SimulationProfile(latency=NO_LATENCY))
        self.stall_s = stall_s

    async def fetch(self, subject: PersonalIdentityNumber, period: Period) -> ProviderAnswer:
        time.sleep(self.stall_s)  # noqa: ASYNC251 (the point: nothing else runs meanwhile)
        return await super().fetch(subject, period)


def queries_total(registry: CollectorRegistry) -> dict[str, float]:
    return {
        sample.labels["outcome"]: sample.value
        for metric in registry.collect()
        if metric.name == "ssbtek_queries"
        for sample in metric.samples
        if sample.name == "ssbtek_queries_total"
    }


def endings(queries: Queries) -> list[tuple[str, str | None]]:
    events = [
        queries.mapper.to_domain_event(n) for n in queries.recorder.select_notifications(1, 1000)
    ]
    return [
        (type(e).__name__, e.reason.value if isinstance(e, Query.Cancelled) else None)
        for e in events
        if isinstance(e, Query.Cancelled | Query.Delivered)
    ]


Served = tuple["pb_grpc.QueryServiceAsyncStub", Queries, CollectorRegistry]


@contextlib.asynccontextmanager
async def serve(**faulty: BaseService) -> AsyncIterator[Served]:
    """The simulated providers (``faulty`` replacing some) behind a real gRPC server."""
    services: dict[Provider, BaseService] = {
        **build_simulated_base_services({"latency": "none"}),
        **{Provider[name.upper()]: service for name, service in faulty.items()},
    }
    registry = CollectorRegistry()
    queries = build_queries(
        SETTINGS,
        base_services=services,
        clock=FakeClock(WEDNESDAY_NOON),
        metrics=PrometheusMetrics(registry),
    )
    server, port = await build_server(queries, address="127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield pb_grpc.QueryServiceStub(channel), queries, registry
    finally:
        await server.stop(grace=None)
        queries.close()


async def settle(registry: CollectorRegistry) -> None:
    for _ in range(100):  # the server's handler ends a moment after the client's call
        if queries_total(registry):
            return
        await asyncio.sleep(0.02)


async def test_a_call_its_client_cancels_is_cancelled_in_the_log_the_metrics_and_the_trail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ssbtek.access")
    hung = SimulatedBaseService(Provider.CSN, SimulationProfile(hang_rate=1.0))
    async with serve(csn=hung) as (stub, queries, registry):
        call: Any = stub.SubmitQuery(request())
        await asyncio.sleep(0.3)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await settle(registry)
        await asyncio.sleep(0.1)
        assert queries_total(registry) == {"CANCELLED": 1.0}
        access = [r for r in caplog.records if r.name == "ssbtek.access"]
        assert [getattr(r, "code", None) for r in access] == ["CANCELLED"]
        assert endings(queries) == [("Cancelled", "CANCELLED")]


async def test_a_call_past_its_deadline_is_deadline_exceeded_and_never_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ssbtek.access")
    async with serve(csn=StallingBaseService(Provider.CSN, stall_s=1.5)) as (
        stub,
        queries,
        registry,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as expired:
            await stub.SubmitQuery(request(), timeout=1.0)
        assert expired.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        await settle(registry)
        await asyncio.sleep(0.1)
        assert queries_total(registry) == {"DEADLINE_EXCEEDED": 1.0}
        access = [r for r in caplog.records if r.name == "ssbtek.access"]
        assert [getattr(r, "code", None) for r in access] == ["DEADLINE_EXCEEDED"]
        assert endings(queries) == [("Cancelled", "DEADLINE_EXCEEDED")]


async def test_an_answer_compiled_after_the_callers_deadline_is_not_released() -> None:
    """The saga's own check, without gRPC's cancellation racing it."""
    registry = CollectorRegistry()
    services: dict[Provider, BaseService] = dict(fake_base_services())
    services[Provider.CSN] = StallingBaseService(Provider.CSN, stall_s=0.6)
    queries = build_queries(
        SETTINGS,
        base_services=services,
        clock=FakeClock(WEDNESDAY_NOON),
        metrics=PrometheusMetrics(registry),
    )
    with pytest.raises(DeadlineExceededError):
        await queries.submit(command(), time_remaining_s=0.5)
    assert queries_total(registry) == {"DEADLINE_EXCEEDED": 1.0}
    assert endings(queries) == [("Cancelled", "DEADLINE_EXCEEDED")]
    answer = await queries.submit(command(), time_remaining_s=5.0)
    assert len(answer.parts) == 8
    assert queries_total(registry) == {"DEADLINE_EXCEEDED": 1.0, "ANSWERED": 1.0}
    queries.close()


async def test_a_cancellation_stored_before_it_had_a_reason_reads_as_the_callers() -> None:
    """Event schema evolution: ``Query.Cancelled`` v1 (no reason) upcasts to v2, CANCELLED."""
    services = fake_base_services(csn="hang")
    queries = build_queries(SETTINGS, base_services=services, clock=FakeClock(WEDNESDAY_NOON))
    task = asyncio.create_task(queries.submit(command()))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    notifications = queries.recorder.select_notifications(1, 10)
    (stored_v2,) = [n for n in notifications if n.topic.endswith("Query.Cancelled")]
    state = queries.mapper.transcoder.decode(stored_v2.state)
    del state["reason"]
    del state["class_version"]
    stored_v1 = dataclasses.replace(stored_v2, state=queries.mapper.transcoder.encode(state))
    upcast = queries.mapper.to_domain_event(stored_v1)
    assert isinstance(upcast, Query.Cancelled)
    assert upcast.reason is CancelReason.CANCELLED
    queries.close()
