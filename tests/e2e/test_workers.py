"""`ssbtek serve --workers 2`: two processes share the port and both answer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listeners(port: int) -> set[str]:
    shown = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True
    )
    return {part.split(",")[1] for part in shown.stdout.split("users:((")[1:]}


def test_two_workers_share_the_port_and_stop_together(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "SSBTEK_DATA_DIR": str(tmp_path), "SSBTEK_METRICS_LISTEN": ""}
    ssbtek = str(Path(sys.executable).parent / "ssbtek")
    process = subprocess.Popen(
        [
            ssbtek,
            "serve",
            "--workers",
            "2",
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
        while len(_listeners(port)) < 2:
            assert time.monotonic() < deadline, "two workers did not start"
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
