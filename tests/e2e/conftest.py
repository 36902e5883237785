"""The service started exactly as the README starts it (`make run`), on a free port.

Only the environment differs from a user's run: its own data directory, port 0 (the
server logs the port it bound) and DEBUG logging, so the canary scan reads every line.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import grpc
import pytest

from tests.e2e.processes import stop

ROOT = Path(__file__).resolve().parents[2]
_SERVING = re.compile(r"serving on [\d.]+:(\d+)")
_METRICS = re.compile(r"metrics on (http://[\d.]+:\d+/metrics)")
_SOAP = re.compile(r"SSBTEK v10 SOAP on (http://[\d.]+:\d+/ssbtek)")


@attrs.frozen
class RunningServer:
    target: str
    metrics_url: str
    soap_url: str
    data_dir: Path
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_for_port(process: subprocess.Popen[bytes], log_path: Path, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = _SERVING.search(log_path.read_text(errors="replace"))
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"the server did not start:\n{log_path.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("e2e")
    data_dir = workdir / "var"
    log_path = workdir / "server.log"
    env = {
        **os.environ,
        "SSBTEK_DATA_DIR": str(data_dir),
        "SSBTEK_LISTEN": "127.0.0.1:0",
        "SSBTEK_LOG_LEVEL": "DEBUG",
        "SSBTEK_METRICS_LISTEN": "127.0.0.1:0",
        "SSBTEK_SOAP_LISTEN": "127.0.0.1:0",  # `make run` starts it; here on a free port
    }
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "-s", "run"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        port = _wait_for_port(process, log_path, timeout_s=60)
        metrics = _METRICS.search(log_path.read_text(errors="replace"))
        assert metrics, "the server logs where its metrics are"
        soap = _SOAP.search(log_path.read_text(errors="replace"))
        assert soap, "the server logs where its v10 SOAP endpoint is"
        running = RunningServer(
            f"127.0.0.1:{port}", metrics.group(1), soap.group(1), data_dir, log_path
        )
        with grpc.insecure_channel(running.target) as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
        yield running
    finally:
        stop(process)


@pytest.fixture
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.target) as opened:
        yield opened
