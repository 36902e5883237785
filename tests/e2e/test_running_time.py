"""The service records its own running time, per worker, and the report reads it back.

`ssbtek serve --workers 2` on SQLite: while it runs, `GetReport` (gRPC, with the HTML page)
shows both workers' runs as still running and an evidence period ending now, with counts as
integers in its JSON text; after SIGTERM the report on the stopped service's files (the
auditor's way, `ssbtek report monthly --data-dir`) shows both runs stopped. Drawing the
charts writes nothing of matplotlib's into the server's log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2_grpc as pb_grpc
from domain.providers import STOCKHOLM
from tests.e2e.processes import SSBTEK, free_port

pytestmark = pytest.mark.e2e


def _report(target: str, year: int, month: int) -> pb.GetReportResponse:
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=120)  # slow on a busy machine
        stub = pb_grpc.AuditServiceStub(channel)
        request = pb.GetReportRequest(year=year, month=month, include_html=True)
        deadline = time.monotonic() + 60
        while True:  # until both workers have recorded their start
            response: pb.GetReportResponse = stub.GetReport(request, timeout=60)
            runs = json.loads(response.report_json)["availability"]["runs"]
            if len(runs) == 2 or time.monotonic() > deadline:
                return response
            time.sleep(0.5)


def test_each_worker_records_its_running_time_and_the_report_shows_it(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "SSBTEK_DATA_DIR": str(tmp_path),
        "SSBTEK_METRICS_LISTEN": "",
        "SSBTEK_LOG_LEVEL": "INFO",
    }
    now = dt.datetime.now(STOCKHOLM)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [SSBTEK, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        response = _report(f"127.0.0.1:{port}", now.year, now.month)
    finally:
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=60)
    assert exit_code == 0, log_path.read_text(errors="replace")[-2000:]

    document = json.loads(response.report_json)
    availability = document["availability"]
    assert sorted((run["worker"], run["ended"]) for run in availability["runs"]) == [
        (0, "still running"),
        (1, "still running"),
    ]
    assert availability["evidence"] is not None
    started = dt.datetime.fromisoformat(availability["evidence"]["start"])
    assert now.replace(second=0, microsecond=0) <= started <= now + dt.timedelta(minutes=2)
    assert all(run["node"].startswith("node-") for run in availability["runs"])
    assert isinstance(availability["opening_minutes"], int)
    assert isinstance(document["usage"]["queries"], int)
    struct = response.report.fields["availability"].struct_value.fields["opening_minutes"]
    assert struct.number_value == availability["opening_minutes"]  # a double in the Struct
    drawn = "Opening hours per working day by what the evidence shows" in response.html
    assert drawn == (availability["measured_minutes"] > 0)
    assert "matplotlib" not in log_path.read_text(errors="replace")

    after = subprocess.run(
        [SSBTEK, "report", "monthly", f"{now:%Y-%m}", "--json", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    runs = json.loads(after.stdout)["availability"]["runs"]
    assert sorted((run["worker"], run["ended"]) for run in runs) == [
        (0, "stopped"),
        (1, "stopped"),
    ]
