"""Planned changes over a real gRPC channel, on SQLite and PostgreSQL (Bilaga 4 § 3.5.2-3.5.5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as ipb
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2_grpc as ipb_grpc
from adapters.grpc.server import build_server
from domain.providers import STOCKHOLM
from infrastructure.composition import build_queries, build_service_management
from infrastructure.settings import Settings
from tests.fakes import FakeClock, fake_base_services

MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=STOCKHOLM)


def stamp(moment: dt.datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=STOCKHOLM)


@pytest.fixture
async def running(
    durable_store_settings: Settings,
) -> AsyncIterator[tuple[ipb_grpc.IncidentServiceAsyncStub, FakeClock]]:
    clock = FakeClock(MONDAY)
    queries = build_queries(durable_store_settings, base_services=fake_base_services(), clock=clock)
    management = build_service_management(durable_store_settings, clock=clock, queries=queries)
    server, port = await build_server(
        queries,
        address="127.0.0.1:0",
        services=management.registrations(),
    )
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield ipb_grpc.IncidentServiceStub(channel), clock
    await server.stop(grace=None)
    management.close()
    queries.close()


async def test_a_window_is_announced_completed_late_and_its_overrun_recorded(
    running: tuple[ipb_grpc.IncidentServiceAsyncStub, FakeClock],
) -> None:
    stub, clock = running
    announced = await stub.AnnounceChange(
        ipb.AnnounceChangeRequest(
            reference="CHG-0042", window_start=stamp(local(6, 22)), window_end=stamp(local(7, 6))
        ),
        timeout=10,
    )
    change_id = announced.change.change_id
    assert announced.change.status == ipb.CHANGE_STATUS_ANNOUNCED
    clock.advance(local(7, 8, 45) - MONDAY)  # the work ran into Monday's opening hours
    completed = await stub.CompleteChange(
        ipb.CompleteChangeRequest(change_id=change_id), timeout=10
    )
    assert completed.change.status == ipb.CHANGE_STATUS_COMPLETED
    assert (completed.change.overrun_minutes, completed.change.overrun_opening_minutes) == (165, 45)
    listed = await stub.ListChanges(ipb.ListChangesRequest(), timeout=10)
    assert [c.change_id for c in listed.changes] == [change_id]


async def test_a_late_or_daytime_window_is_refused_with_its_clause(
    running: tuple[ipb_grpc.IncidentServiceAsyncStub, FakeClock],
) -> None:
    stub, _ = running
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await stub.AnnounceChange(
            ipb.AnnounceChangeRequest(
                reference="CHG-1",
                window_start=stamp(MONDAY + dt.timedelta(days=7, hours=10)),
                window_end=stamp(MONDAY + dt.timedelta(days=7, hours=12)),
            ),
            timeout=10,
        )
    assert late.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "§ 3.5.5" in (late.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as daytime:
        await stub.AnnounceChange(
            ipb.AnnounceChangeRequest(
                reference="CHG-2", window_start=stamp(local(9, 12)), window_end=stamp(local(9, 13))
            ),
            timeout=10,
        )
    assert daytime.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "§ 3.5.2" in (daytime.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.AnnounceChange(ipb.AnnounceChangeRequest(reference="CHG-3"), timeout=10)
    assert missing.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.CompleteChange(
            ipb.CompleteChangeRequest(change_id="00000000-0000-4000-8000-000000000000"), timeout=10
        )
    assert unknown.value.code() is grpc.StatusCode.NOT_FOUND
