"""`ssbtek serve --workers N`: N processes share the port and answer.

On PostgreSQL four workers open one freshly prepared database at once: before the
workers opened their stores without creating tables, three or more raced in the event
store's DDL ("tuple concurrently updated", found by the scale-out benchmark)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from infrastructure.settings import PostgresSettings
from tests.e2e.processes import SSBTEK, free_port, postgres_env

pytestmark = pytest.mark.e2e


def _listeners(port: int) -> set[str]:
    shown = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True
    )
    return {part.split(",")[1] for part in shown.stdout.split("users:((")[1:]}


@pytest.mark.parametrize(("store", "workers"), [("sqlite", 2), ("postgres", 4)])
def test_workers_share_the_port_and_stop_together(
    tmp_path: Path, request: pytest.FixtureRequest, store: str, workers: int
) -> None:
    port = free_port()
    env = {**os.environ, "SSBTEK_DATA_DIR": str(tmp_path), "SSBTEK_METRICS_LISTEN": ""}
    env["SSBTEK_STORE"] = store
    if store == "postgres":
        database: PostgresSettings = request.getfixturevalue("postgres_database")
        env |= postgres_env(database)
    process = subprocess.Popen(
        [
            SSBTEK,
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
            "--provider-options",
            "latency=none",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "log").open("wb"),
    )
    try:
        deadline = time.monotonic() + 30
        while len(_listeners(port)) < workers:
            assert process.poll() is None, (tmp_path / "log").read_text()[-2000:]
            assert time.monotonic() < deadline, f"{workers} workers did not start"
            time.sleep(0.2)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            described = pb_grpc.QueryServiceStub(channel).DescribeProviders(
                pb.DescribeProvidersRequest(), timeout=10
            )
        assert len(described.providers) == 8
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    assert _listeners(port) == set()
    assert len(list(tmp_path.glob("pseudonym.key"))) == 1
