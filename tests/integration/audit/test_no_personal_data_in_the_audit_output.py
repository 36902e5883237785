"""Canary test: what an auditor gets (the replay, the monthly report as JSON and as HTML, the
verdict) holds none of the personal data the queries carried.

Queries go through the real gRPC server to base services whose answers are canary values
(tests/integration/test_personal_data_never_rests.py); then the audit service is asked over
the same server, and the command-line output is made from a read-only copy.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import grpc
import pytest
from google.protobuf.json_format import MessageToJson

from adapters.grpc.audit_servicer import register_audit_service
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2_grpc as pb_grpc
from adapters.grpc.server import build_server
from adapters.security.signing import public_key_pem
from infrastructure.audit_cli import add_audit_commands
from infrastructure.composition import audited, build_audit_trail, build_queries
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock
from tests.integration.audit.world import EVENTS_PER_QUERY, new_signer, seals_for, verifier_of
from tests.integration.test_personal_data_never_rests import (
    ANSWER_TEXT,
    SUBJECTS,
    WEDNESDAY_MORNING,
    ask,
    canary_base_services,
    hunted,
)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ssbtek")
    add_audit_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


async def test_no_personal_value_reaches_the_replay_the_report_or_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(store=Store.SQLITE, data_dir=tmp_path / "var", pseudonym_key_hex="11" * 32)
    clock = FakeClock(WEDNESDAY_MORNING)
    signer = new_signer()
    queries = build_queries(settings, base_services=canary_base_services(), clock=clock)
    seals = seals_for(settings, signer, clock)
    trail = build_audit_trail(audited(queries), seals, verifier_of(signer), clock=clock)
    server, port = await build_server(
        queries, address="127.0.0.1:0", services=[register_audit_service(trail)]
    )
    await server.start()
    target = f"127.0.0.1:{port}"
    outputs: list[bytes] = []
    try:
        answers = await ask(target)
        delivered = b"".join(a.SerializeToString() for a in answers)
        assert ANSWER_TEXT.encode() in delivered
        assert SUBJECTS[0].encode() in delivered
        seals.seal("queries", queries.recorder)
        async with grpc.aio.insecure_channel(target) as channel:
            stub = pb_grpc.AuditServiceStub(channel)
            replayed = [r.event async for r in stub.ReplayEvents(pb.ReplayEventsRequest())]
            assert (
                len(replayed) == 3 * EVENTS_PER_QUERY + 1
            )  # three answered queries and one refused
            outputs += [MessageToJson(e).encode() for e in replayed]
            report = await stub.GetReport(
                pb.GetReportRequest(year=2026, month=11, include_html=True)
            )
            outputs += [MessageToJson(report.report).encode(), report.html.encode()]
            verdict = await stub.VerifyChain(pb.VerifyChainRequest())
            assert verdict.intact
            outputs.append(MessageToJson(verdict).encode())
    finally:
        await server.stop(grace=None)
        queries.close()
        seals.close()

    key = tmp_path / "seal-key.pem"
    key.write_bytes(public_key_pem(signer.public_key))
    data = ["--data-dir", str(settings.data_dir)]
    capsys.readouterr()
    assert run_cli("audit", "replay", *data, "--output", str(tmp_path / "replay.jsonl")) == 0
    assert run_cli("audit", "verify", *data, "--public-key", str(key), "--json") == 0
    html = tmp_path / "report.html"
    assert run_cli("report", "monthly", "2026-11", *data, "--json", "--html", str(html)) == 0
    printed = capsys.readouterr().out
    lines = (tmp_path / "replay.jsonl").read_text().splitlines()
    assert len(lines) == 3 * EVENTS_PER_QUERY + 1
    assert json.loads(lines[0])["topic"].endswith("Query.Received")
    outputs += [printed.encode(), "\n".join(lines).encode(), html.read_bytes()]

    everything = b"\n".join(outputs)
    assert b"caseworker_pseudonym" in everything  # the events really are in there
    for value in hunted():
        assert value not in everything, "a personal value reached an auditor's output"
