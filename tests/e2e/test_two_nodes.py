"""Two nodes on one PostgreSQL database: the background roles (event followers with the
automatic incidents, deadline check, audit sealer, recovery) run in whichever node holds
the lease, and the other takes them over when the holder is killed (ADR 13).

Both nodes answer queries that two failing providers make incident-worthy. The holder is
SIGKILLed; within the stated bound (1.25 leases) the other node takes the roles, resumes
the follower from its tracking record and the sealer from the last seal. Then an upgrade:
a third node starts, the holder is stopped (SIGTERM) and releases the lease, and the new
node takes the roles within a quarter lease. One automatic incident in all, no seal race,
and ``ssbtek audit verify --require-sealed`` finds every log intact and sealed."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from infrastructure.roles import ROLES_HEALTH
from infrastructure.settings import PostgresSettings
from tests.e2e.processes import SSBTEK, free_port, postgres_env
from tests.e2e.test_query_service_over_grpc import request

pytestmark = pytest.mark.e2e

LEASE_S = 2.0
TAKE_OVER_S = 1.25 * LEASE_S
"""The bound ADR 13 states: the lease runs out, and a candidate tries every quarter lease."""
SCHEDULING_S = 1.5
"""Allowance for starting the threads and processes of a loaded test machine."""
TAKEN = "background roles taken"
TWO_FAILING = "latency=none,CSN.error_rate=1,SKATTEVERKET.error_rate=1"


def node_env(database: PostgresSettings, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **postgres_env(database),
        "SSBTEK_DATA_DIR": str(data_dir),
        "SSBTEK_PSEUDONYM_KEY": "44" * 32,
        "SSBTEK_AUDIT_SIGNING_KEY": "55" * 32,
        "SSBTEK_METRICS_LISTEN": "",
        "SSBTEK_AUDIT_SEAL_INTERVAL": "0.5",
        "SSBTEK_ROLES_LEASE": str(LEASE_S),
        **extra,
    }


@contextmanager
def node(
    env: dict[str, str], log: Path, options: str = TWO_FAILING
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    process = subprocess.Popen(
        [SSBTEK, "serve", "--port", str(port), "--provider-options", options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    try:
        until(lambda: "serving on" in log.read_text(), 30, log)
        yield port, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def until(condition: Callable[[], bool], seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.05)


def ask(port: int) -> None:
    two = [pb.ProviderSelection(provider=pb.PROVIDER_CSN)]
    two.append(pb.ProviderSelection(provider=pb.PROVIDER_SKATTEVERKET))
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        response = pb_grpc.QueryServiceStub(channel).SubmitQuery(
            request(caseworker_id="HL000001", providers=two), timeout=10
        )
    assert len(response.answer.subjects[0].parts) == 2


def holds_the_roles(port: int) -> bool:
    """What the node's health service says of the background roles."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=ROLES_HEALTH), timeout=5
        )
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


def roles_metric(metrics_port: int) -> list[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as page:
        text: str = page.read().decode()
    return [line for line in text.splitlines() if line.startswith("ssbtek_background_roles{")]


def sql(database: PostgresSettings, statement: str) -> int:
    with psycopg.connect(
        host=database.host, port=database.port, user=database.user, dbname=database.dbname
    ) as connection:
        row = connection.execute(statement).fetchone()
    assert row is not None
    return int(row[0] or 0)


def followed(database: PostgresSettings) -> bool:
    """The automatic-incident follower has processed every compiled query."""
    compiled = sql(
        database, "SELECT max(notification_id) FROM queries_events WHERE topic LIKE '%.Compiled'"
    )
    tracked = sql(
        database,
        "SELECT max(notification_id) FROM incidents_tracking WHERE application_name = 'Queries'",
    )
    return 0 < compiled == tracked


def test_another_node_takes_the_roles_over_when_the_holder_is_killed_or_stopped(
    tmp_path: Path, postgres_database: PostgresSettings
) -> None:
    env = node_env(postgres_database, tmp_path)
    metrics_port = free_port()
    second_env = {**env, "SSBTEK_METRICS_LISTEN": f"127.0.0.1:{metrics_port}"}
    first_log, second_log, third_log = (tmp_path / f"{n}.log" for n in ("1", "2", "3"))
    with (
        node(env, first_log) as (first_port, first),
        node(second_env, second_log) as (second_port, second),
    ):
        until(lambda: TAKEN in first_log.read_text(), 10, first_log)
        assert TAKEN not in second_log.read_text()
        assert holds_the_roles(first_port)
        assert not holds_the_roles(second_port)
        (gauge,) = roles_metric(metrics_port)
        assert gauge.startswith('ssbtek_background_roles{node="node-')
        assert gauge.endswith(" 0.0")
        ask(first_port)
        ask(second_port)
        until(lambda: followed(postgres_database), 20, first_log)
        first.kill()
        killed_at = time.monotonic()
        until(lambda: TAKEN in second_log.read_text(), TAKE_OVER_S + SCHEDULING_S, second_log)
        print(f"taken over {time.monotonic() - killed_at:.2f} s after the kill")
        assert holds_the_roles(second_port)
        assert roles_metric(metrics_port)[0].endswith(" 1.0")
        ask(second_port)
        with node(env, third_log) as (third_port, _):  # an upgrade: the new node, then
            second.terminate()  # the old one stops, releasing the lease
            stopped_at = time.monotonic()
            until(lambda: TAKEN in third_log.read_text(), LEASE_S / 4 + SCHEDULING_S, third_log)
            print(f"taken over {time.monotonic() - stopped_at:.2f} s after the stop")
            assert second.wait(timeout=20) == 0
            ask(third_port)
            until(lambda: followed(postgres_database), 20, third_log)
    incidents = sql(
        postgres_database,
        "SELECT count(*) FROM incidents_events WHERE topic LIKE '%Incident.Registered'",
    )
    assert incidents == 1
    for log in (first_log, second_log, third_log):
        text = log.read_text()
        assert "first; it is sealed" not in text  # no two sealers raced
        assert "LeaseLostError" not in text
    verdict = subprocess.run(
        [SSBTEK, "audit", "verify", "--require-sealed"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
