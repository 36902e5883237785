"""Two nodes on one PostgreSQL database: only the node with ``SSBTEK_SINGLETONS`` on (the
default) runs the event followers and the audit sealer (ADR 13).

The node started with ``SSBTEK_SINGLETONS=off`` answers a query; for longer than two
follow intervals and several seal intervals nothing follows the query log and nothing is
sealed. Then the second node starts with the default and does both, for the query the
first node answered: one log, one follower, one sealer."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import psycopg
import pytest

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from infrastructure.composition import FOLLOW_INTERVAL_S
from infrastructure.settings import PostgresSettings
from tests.e2e.processes import SSBTEK, free_port, postgres_env
from tests.e2e.test_query_service_over_grpc import request

pytestmark = pytest.mark.e2e

SEAL_INTERVAL_S = 0.5


@contextmanager
def _node(
    database: PostgresSettings, data_dir: Path, log: Path, **extra: str
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {
        **os.environ,
        **postgres_env(database),
        "SSBTEK_DATA_DIR": str(data_dir),
        "SSBTEK_PSEUDONYM_KEY": "44" * 32,
        "SSBTEK_METRICS_LISTEN": "",
        "SSBTEK_AUDIT_SEAL_INTERVAL": str(SEAL_INTERVAL_S),
        **extra,
    }
    process = subprocess.Popen(
        [SSBTEK, "serve", "--port", str(port), "--provider-options", "latency=none"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    try:
        _until(lambda: "serving on" in log.read_text(), 30, log, process)
        yield port, process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def _until(condition: Callable[[], bool], seconds: float, log: Path, process: object) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert isinstance(process, subprocess.Popen)
        assert process.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)


def _followed_and_sealed(database: PostgresSettings) -> tuple[int, int]:
    """The Incidents follower's position in the Queries log, and the number of seals."""
    with psycopg.connect(
        host=database.host, port=database.port, user=database.user, dbname=database.dbname
    ) as connection:
        tracked = connection.execute(
            "SELECT coalesce(max(notification_id), 0) FROM incidents_tracking "
            "WHERE application_name = 'Queries'"
        ).fetchone()
        seals = connection.execute("SELECT count(*) FROM auditseals_events").fetchone()
    assert tracked is not None
    assert seals is not None
    return int(tracked[0]), int(seals[0])


def _ask(port: int) -> None:
    one_provider = request(  # the caseworker the development seed authorises
        caseworker_id="HL000001", providers=[pb.ProviderSelection(provider=pb.PROVIDER_CSN)]
    )
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        response = pb_grpc.QueryServiceStub(channel).SubmitQuery(one_provider, timeout=10)
    assert len(response.answer.subjects[0].parts) == 1


def test_only_the_node_with_singletons_on_follows_the_log_and_seals(
    tmp_path: Path, postgres_database: PostgresSettings
) -> None:
    quiet_log, main_log = tmp_path / "quiet.log", tmp_path / "main.log"
    with _node(postgres_database, tmp_path, quiet_log, SSBTEK_SINGLETONS="off") as (port, _):
        assert "on another node (SSBTEK_SINGLETONS=off)" in quiet_log.read_text()
        _ask(port)
        time.sleep(2.5 * FOLLOW_INTERVAL_S)
        assert _followed_and_sealed(postgres_database) == (0, 0)
        with _node(postgres_database, tmp_path, main_log) as (_, main):
            assert "run in this process" in main_log.read_text()
            _until(
                lambda: all(found > 0 for found in _followed_and_sealed(postgres_database)),
                30,
                main_log,
                main,
            )
