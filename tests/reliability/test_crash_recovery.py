"""SIGKILL at chosen points: in the middle of a fan-out, before the audit save, and after
the save but before the reply. After every kill: no personal data on disk, no
acknowledged audit event lost, and after a restart the query that was in flight is closed
by the recovery step (``Abandoned``), or was answered in the trail before the kill.

Four rounds per point in the normal run (12 kills); ``SSBTEK_SOAK=1``: 34 rounds (102 kills).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import grpc
import pytest
from google.type.date_pb2 import Date

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.security.pseudonymiser import HmacPseudonymiser
from domain.query.aggregate import Query, QueryStatus
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests import canaries

ROOT = Path(__file__).resolve().parents[2]
SOAK = os.environ.get("SSBTEK_SOAK") == "1"
ROUNDS = 34 if SOAK else 4
KEY = bytes.fromhex("66" * 32)
ORGANISATION = "2120000142"
CRASH_ON = {"fan-out": 8 + 3, "before-save": 2, "after-save": 2}  # during the 2nd query
EXPECTED_END = {
    "fan-out": QueryStatus.ABANDONED,
    "before-save": QueryStatus.ABANDONED,
    "after-save": QueryStatus.ERASED,
}


def start(data_dir: Path, crash_at: str = "") -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "SSBTEK_DATA_DIR": str(data_dir), "CRASH_AT": crash_at}
    env["CRASH_ON"] = str(CRASH_ON.get(crash_at, 1))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.crash_server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("PORT "), "the crash server did not start"
    return process, f"127.0.0.1:{line.split()[1]}"


def request(
    client_request_id: str, subject: str, case_id: str, caseworker: str
) -> pb.SubmitQueryRequest:
    return pb.SubmitQueryRequest(
        client_request_id=client_request_id,
        asking_organisation=pb.AskingOrganisation(organisation_number=ORGANISATION),
        caseworker_id=caseworker,
        case_id=case_id,
        purpose=pb.PURPOSE_FINANCIAL_ASSISTANCE_CASE,
        legal_basis=pb.LEGAL_BASIS_SOL_11_KAP_11,
        period=pb.Period(
            start=Date(year=2026, month=1, day=1), end=Date(year=2026, month=10, day=31)
        ),
        subjects=[subject],
    )


def query_id(client_request_id: str) -> uuid.UUID:
    digest = HmacPseudonymiser(KEY).pseudonym(
        "client-request", f"{ORGANISATION}|{client_request_id}"
    )
    return uuid.UUID(hex=digest[:32], version=4)


@pytest.mark.timeout(900 if SOAK else 120)
def test_sigkill_at_each_point_loses_no_acknowledged_event_and_leaves_no_personal_data(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    rng = random.Random(1_234)
    hunted: list[str] = []
    acknowledged: list[uuid.UUID] = []
    killed: dict[uuid.UUID, str] = {}
    for round_ in range(ROUNDS):
        for point in CRASH_ON:
            process, target = start(data_dir, point)
            with grpc.insecure_channel(target) as channel:
                stub = pb_grpc.QueryServiceStub(channel)
                for attempt in ("answered", "killed"):
                    subject = canaries.personnummer(rng)
                    case_id, caseworker = canaries.text("CASE"), canaries.text("HL")
                    hunted += [*canaries.forms(subject), case_id, caseworker]
                    client_request_id = f"{point}-{round_}-{attempt}"
                    call = request(client_request_id, subject, case_id, caseworker)
                    if attempt == "answered":
                        answer = stub.SubmitQuery(call, timeout=10).answer
                        acknowledged.append(uuid.UUID(answer.query_id))
                        continue
                    with pytest.raises(grpc.RpcError) as died:
                        stub.SubmitQuery(call, timeout=10)
                    assert died.value.code() is grpc.StatusCode.UNAVAILABLE
                    killed[query_id(client_request_id)] = point
            assert process.wait(timeout=10) == -9  # SIGKILL
            stored = b"".join(p.read_bytes() for p in data_dir.iterdir() if p.is_file())
            assert not [v for v in hunted if v.encode() in stored], "personal data on disk"

    survivor, _ = start(data_dir)  # its recovery step closes the last round's query too
    survivor.kill()
    survivor.wait(timeout=10)

    settings = Settings(store=Store.SQLITE, data_dir=data_dir, pseudonym_key_hex=KEY.hex())
    reader = build_queries(settings, base_services={})
    try:
        for answered in acknowledged:
            query: Query = reader.repository.get(answered)
            assert query.status is QueryStatus.ERASED
        for in_flight, point in killed.items():
            query = reader.repository.get(in_flight)
            assert query.status is EXPECTED_END[point], point
        topics = Counter(
            n.topic.split(":")[-1] for n in reader.recorder.select_notifications(1, 1_000_000)
        )
    finally:
        reader.close()
    assert len(killed) == ROUNDS * 3
    received = topics["Query.Received"]
    assert received == len(acknowledged) + len(killed)
    assert (
        topics["Query.Delivered"] + topics["Query.Abandoned"] + topics["Query.Cancelled"]
        == received
    )
