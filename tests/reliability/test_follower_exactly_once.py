"""SIGKILL inside the automatic-incident follower, before the effects of a query event
commit: after restarts the follower resumes where its tracking record says, processes every
query event, and opens the incident for the condition exactly once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import grpc
import pytest

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.system_clock import SystemClock
from domain.incident.conditions import Condition
from infrastructure.composition import build_queries, build_service_management
from infrastructure.settings import Settings, Store
from tests.reliability.test_crash_recovery import KEY, request, start

ROUNDS = 3


@pytest.mark.timeout(300)
def test_a_follower_killed_mid_event_resumes_and_opens_the_incident_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    os.environ["FOLLOW"] = "1"
    os.environ["FAILING"] = "CSN,SKATTEVERKET"  # two providers down: an incident (§ 3.8)
    try:
        kills = 0
        for round_ in range(ROUNDS):
            process, target = start(data_dir, "process")  # killed at its 1st policy call
            with grpc.insecure_channel(target) as channel:
                stub = pb_grpc.QueryServiceStub(channel)
                for attempt in range(3):
                    try:
                        stub.SubmitQuery(
                            request(f"f-{round_}-{attempt}", "191212121212", "C", "HL1"), timeout=5
                        )
                    except grpc.RpcError:
                        break  # the process died under us
            kills += process.wait(timeout=20) == -9
        survivor, _ = start(data_dir)
        try:
            settings = Settings(store=Store.SQLITE, data_dir=data_dir, pseudonym_key_hex=KEY.hex())
            queries = build_queries(settings, base_services={})
            compiled = [
                n.id
                for n in queries.recorder.select_notifications(1, 10_000)
                if n.topic.endswith("Query.Compiled")
            ]
            management = build_service_management(settings, clock=SystemClock())
            deadline = time.monotonic() + 30
            while (management.incidents.recorder.max_tracking_id("Queries") or 0) < compiled[-1]:
                assert time.monotonic() < deadline, "the follower did not catch up"
                time.sleep(0.2)
            opened = [
                i
                for i in management.incidents.list_incidents()
                if i.condition is Condition.PROVIDERS_UNAVAILABLE
            ]
            management.close()
            queries.close()
        finally:
            survivor.kill()
            survivor.wait(timeout=10)
    finally:
        del os.environ["FOLLOW"], os.environ["FAILING"]
    assert kills == ROUNDS
    assert len(compiled) >= ROUNDS
    assert len(opened) == 1
