"""The audit service over a real gRPC channel: replay (one to one with the store, filters,
resumption, following new events), verification and the monthly report, on SQLite and on a
real PostgreSQL database."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import grpc
import pytest
from google.protobuf.json_format import MessageToDict

from adapters.grpc.audit_servicer import register_audit_service
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2_grpc as pb_grpc
from adapters.grpc.server import build_server
from application.audit.replay import ReplayFilter
from application.audit.seals import AuditSeals
from application.queries import Queries
from infrastructure.audit_output import event_line
from infrastructure.composition import audited, build_audit_trail
from infrastructure.settings import Settings
from tests.fakes import FakeClock
from tests.integration.audit.test_audit_cli import run_cli
from tests.integration.audit.world import (
    EVENTS_PER_QUERY,
    WEDNESDAY_MORNING,
    Attacker,
    copy_of,
    new_signer,
    open_queries,
    seals_for,
    verifier_of,
)
from tests.unit.application.test_query_saga import SUBJECTS, command

Q = EVENTS_PER_QUERY

OTHER = "202100-5489"


@attrs.frozen
class Running:
    stub: pb_grpc.AuditServiceAsyncStub
    queries: Queries
    seals: AuditSeals
    clock: FakeClock
    settings: Settings
    target: str


@pytest.fixture
async def running(durable_store_settings: Settings) -> AsyncIterator[Running]:
    settings = durable_store_settings
    clock = FakeClock(WEDNESDAY_MORNING)
    signer = new_signer()
    queries = open_queries(settings, clock)
    seals = seals_for(settings, signer, clock)
    trail = build_audit_trail(audited(queries), seals, verifier_of(signer), clock=clock)
    server, port = await build_server(
        queries,
        address="127.0.0.1:0",
        services=[register_audit_service(trail, poll_interval_s=0.05)],
    )
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        stub = pb_grpc.AuditServiceStub(channel)
        yield Running(stub, queries, seals, clock, settings, f"127.0.0.1:{port}")
    finally:
        await channel.close()
        await server.stop(grace=None)
        queries.close()
        seals.close()


async def ask(running: Running, organisation: str = "212000-0142", subjects: int = 1) -> None:
    await running.queries.submit(command(SUBJECTS[:subjects], organisation_number=organisation))
    running.clock.advance(dt.timedelta(minutes=1))


async def replay(running: Running, **fields: object) -> list[pb.ReplayedEvent]:
    call = running.stub.ReplayEvents(pb.ReplayEventsRequest(**fields), timeout=30)  # type: ignore[arg-type]
    return [response.event async for response in call]


async def test_a_replay_matches_the_events_in_the_store_one_to_one(running: Running) -> None:
    await ask(running)
    await ask(running, OTHER, subjects=2)
    events = await replay(running)
    rows = Attacker(running.settings).rows()
    assert len(rows) == 2 * Q
    assert [
        (e.position, e.originator_id, e.originator_version, e.topic, e.state_json.encode())
        for e in events
    ] == [(p, str(uuid.UUID(str(o))), v, t, s) for p, o, v, t, s in rows]
    assert {e.application for e in events} == {"queries"}
    received = json.loads(events[0].state_json)
    stamp = events[0].timestamp.ToDatetime(tzinfo=dt.UTC)
    assert stamp == WEDNESDAY_MORNING
    assert received["timestamp"]["_data_"] == WEDNESDAY_MORNING.isoformat()


async def test_replay_filters_by_event_type_organisation_and_time(running: Running) -> None:
    await ask(running)  # 09:30
    await ask(running, OTHER)  # 09:31
    await ask(running)  # 09:32
    kinds = await replay(running, event_types=["Query.Received"])
    assert [e.topic.rpartition(":")[2] for e in kinds] == ["Query.Received"] * 3
    assert await replay(running, aggregate_types=["Query"]) == await replay(running)
    assert await replay(running, aggregate_types=["Party"]) == []

    other = await replay(running, asking_organisations=[OTHER])
    assert len(other) == Q
    assert len({e.originator_id for e in other}) == 1
    assert all(e.position in range(Q + 1, 2 * Q + 1) for e in other)

    since = pb.ReplayEventsRequest()
    since.since.FromDatetime(WEDNESDAY_MORNING + dt.timedelta(minutes=1))
    since.until.FromDatetime(WEDNESDAY_MORNING + dt.timedelta(minutes=2))
    window = [r.event async for r in running.stub.ReplayEvents(since, timeout=30)]
    assert [e.originator_id for e in window] == [e.originator_id for e in other]


async def test_a_replay_resumes_after_the_last_position_seen(running: Running) -> None:
    for _ in range(3):
        await ask(running)
    everything = await replay(running)
    first_part = everything[: Q + 1]
    rest = await replay(running, after_positions={"queries": first_part[-1].position})
    assert first_part + rest == everything


async def test_a_following_replay_sends_new_events_as_they_are_stored(running: Running) -> None:
    await ask(running)
    call = running.stub.ReplayEvents(pb.ReplayEventsRequest(follow=True), timeout=30)
    stream = aiter(call)
    seen = [(await anext(stream)).event.position for _ in range(Q)]
    assert seen == list(range(1, Q + 1))
    await ask(running, OTHER)
    more = [(await asyncio.wait_for(anext(stream), 10)).event for _ in range(Q)]
    assert [e.position for e in more] == list(range(Q + 1, 2 * Q + 1))
    assert json.loads(more[0].state_json)["asking_organisation"] == OTHER.replace("-", "")
    call.cancel()


async def test_an_unknown_application_or_organisation_is_an_invalid_argument(
    running: Running,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await replay(running, applications=["queries", "nonsense"], asking_organisations=["12"])
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "asking_organisations[0]" in (refused.value.details() or "")


async def test_verify_chain_and_the_monthly_report_over_grpc(running: Running) -> None:
    await ask(running)
    running.seals.seal("queries", running.queries.recorder)
    await ask(running, OTHER)
    verdict = await running.stub.VerifyChain(pb.VerifyChainRequest(), timeout=30)
    assert verdict.intact
    (chain,) = verdict.chains
    assert (chain.application, chain.seals, chain.sealed_through, chain.unsealed_events) == (
        "queries",
        1,
        Q,
        Q,
    )
    anchor = chain.latest_seal
    Attacker(running.settings).delete(3)
    broken = await running.stub.VerifyChain(pb.VerifyChainRequest(anchors=[anchor]), timeout=30)
    assert not broken.intact
    assert (broken.first_break.position, broken.first_break.kind) == (3, pb.BREAK_KIND_DELETED)

    report = await running.stub.GetReport(
        pb.GetReportRequest(year=2026, month=11, include_html=True), timeout=60
    )
    document = json.loads(report.report_json)
    assert document["month"] == "2026-11"
    assert document["usage"]["queries"] == 2
    assert isinstance(document["usage"]["queries"], int)  # the Struct would say 2.0
    assert MessageToDict(report.report)["usage"]["queries"] == 2.0
    assert document["incidents"] == "no data source"
    assert report.html.count('src="data:image/svg+xml;base64,') == 1  # no running-time log


async def test_verify_chain_over_grpc_resumes_from_a_kept_anchor(running: Running) -> None:
    await ask(running)
    running.seals.seal("queries", running.queries.recorder)
    await ask(running, OTHER)
    running.seals.seal("queries", running.queries.recorder)
    await ask(running)
    whole = await running.stub.VerifyChain(pb.VerifyChainRequest(), timeout=30)
    (chain,) = whole.chains
    anchor = chain.latest_seal
    resumed = await running.stub.VerifyChain(
        pb.VerifyChainRequest(anchors=[anchor], resume=True), timeout=30
    )
    assert whole.intact
    assert resumed.intact
    assert chain.events == 3 * Q
    (from_anchor,) = resumed.chains
    assert from_anchor.events == 2 * Q  # the anchor seal's segment and what came after
    assert from_anchor.head_digest == chain.head_digest
    Attacker(running.settings).delete(Q + 2)  # inside the anchor seal's segment
    broken = await running.stub.VerifyChain(
        pb.VerifyChainRequest(anchors=[anchor], resume=True), timeout=30
    )
    assert not broken.intact
    assert broken.first_break.position == Q + 2


async def test_the_command_line_asks_the_running_service_with_the_same_output(
    running: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await ask(running)
    running.seals.seal("queries", running.queries.recorder)
    await ask(running, OTHER)
    remote = tmp_path / "remote.jsonl"
    target = ("--target", running.target)
    assert (
        await asyncio.to_thread(run_cli, "audit", "replay", *target, "--output", str(remote)) == 0
    )
    with copy_of(running.settings) as trail:
        local = [event_line(e) for e in trail.replay(ReplayFilter())]
    assert remote.read_text().splitlines() == local

    capsys.readouterr()
    assert await asyncio.to_thread(run_cli, "audit", "verify", *target, "--json") == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["intact"] is True
    assert verdict["chains"][0]["unsealed_events"] == Q
    assert await asyncio.to_thread(run_cli, "report", "monthly", "2026-11", *target, "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["usage"]["queries"] == 2
    assert isinstance(document["usage"]["queries"], int)
    assert await asyncio.to_thread(run_cli, "report", "monthly", "2026-11", *target) == 0
    summary = capsys.readouterr().out
    assert "2 queries about" in summary

    # An auditor keeps the verdict, and later verifies from its newest seal on.
    running.seals.seal("queries", running.queries.recorder)
    assert await asyncio.to_thread(run_cli, "audit", "verify", *target, "--json") == 0
    anchor = tmp_path / "anchor.json"
    anchor.write_text(capsys.readouterr().out)
    await ask(running)
    resume = ("--anchor", str(anchor), "--from-anchor", "--json")
    assert await asyncio.to_thread(run_cli, "audit", "verify", *target, *resume) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["intact"] is True
    assert resumed["chains"][0]["events"] == 2 * Q  # the newest seal's segment and after
    assert await asyncio.to_thread(run_cli, "audit", "verify", *target, "--json") == 0
    assert json.loads(capsys.readouterr().out)["chains"][0]["events"] == 3 * Q
    assert ".0 queries" not in summary
    assert ".0 refused" not in summary

    Attacker(running.settings).delete(3)
    assert await asyncio.to_thread(run_cli, "audit", "verify", *target) == 1
