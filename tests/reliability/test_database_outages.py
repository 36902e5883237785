"""The database fails under a running service (issue 23, ADR 23): ``ssbtek serve`` on a private
PostgreSQL cluster, under a steady load of 4 queries a second, is started while the cluster is
down; the cluster is then brought up, crashed (``pg_ctl stop -m immediate``), restarted,
stopped cleanly, restarted, and the service's connections are killed from inside
(``pg_terminate_backend``). Every call that failed is retried with the same
``client_request_id`` once the database is back.

It asserts: the process stays up and logs no traceback (nor the database password); health
says NOT_SERVING within 2 s of each outage and SERVING within 2 s of each return, and the
``ssbtek_store_up`` metric says so too; after the connections are killed no call fails; every
call is answered or refused within its service level (7 s for one subject) and none runs to
its deadline; every OK has its whole trail, and no trail says delivered for a call the client
did not receive; every failed call, retried, gets OK; ``ssbtek audit verify`` passes and no
query is left open. The cluster is the test's own (port 55431), never the shared server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs
import grpc
import pytest
from google.type.date_pb2 import Date
from grpc_health.v1 import health_pb2, health_pb2_grpc

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from application.queries import Queries
from domain.identity import OrganisationNumber
from domain.query.aggregate import Query, QueryStatus
from infrastructure.composition import build_queries
from infrastructure.settings import PostgresSettings, Settings, Store
from tests import canaries
from tests.e2e.processes import SSBTEK, free_port
from tests.reliability.private_postgres import PrivatePostgres

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.timeout(420)]

PORT = 55431
PASSWORD = "not-a-real-password-7c1e"
PSEUDONYM_KEY = "5a" * 32
SIGNING_KEY = "6b" * 32
ORGANISATION = "212000-0142"
RATE_S = 0.25
"""One query every 0.25 s: 4 a second."""
SERVICE_LEVEL_S = 7.0
"""004 Bilaga 4 § 3.7.1 for one subject."""
CLIENT_DEADLINE_S = 10.0
HEALTH_WITHIN_S = 2.0


@attrs.define
class Call:
    request_id: str
    started: float
    ended: float = 0.0
    code: grpc.StatusCode | None = None
    query_id: str = ""


@attrs.define
class World:
    cluster: PrivatePostgres
    data_dir: Path
    log: Path
    env: dict[str, str]
    calls: list[Call] = attrs.field(factory=list)
    health: list[tuple[float, int]] = attrs.field(factory=list)
    store_up: list[tuple[float, str]] = attrs.field(factory=list)


RNG = random.Random(2323)


def request(request_id: str) -> pb.SubmitQueryRequest:
    return pb.SubmitQueryRequest(
        client_request_id=request_id,
        asking_organisation=pb.AskingOrganisation(organisation_number=ORGANISATION),
        caseworker_id="HL000001",  # the caseworker the development seed authorises
        case_id=canaries.text("CASE"),
        purpose=pb.PURPOSE_FINANCIAL_ASSISTANCE_CASE,
        legal_basis=pb.LEGAL_BASIS_SOL_11_KAP_11,
        period=pb.Period(
            start=Date(year=2026, month=1, day=1), end=Date(year=2026, month=6, day=30)
        ),
        subjects=[canaries.personnummer(RNG)],
        providers=[pb.ProviderSelection(provider=pb.PROVIDER_CSN)],
    )


@pytest.fixture
def world() -> Iterator[World]:
    directory = Path(tempfile.mkdtemp(prefix="ssbtek-outages-"))
    cluster = PrivatePostgres(directory / "cluster", port=PORT)
    cluster.initialise()
    cluster.start()
    cluster.create_database("ssbtek")
    cluster.stop_cleanly()  # the service starts with the cluster down
    env = {
        **os.environ,
        "SSBTEK_STORE": "postgres",
        "SSBTEK_POSTGRES_PORT": str(PORT),
        "SSBTEK_POSTGRES_PASSWORD": PASSWORD,
        "SSBTEK_DATA_DIR": str(directory / "var"),
        "SSBTEK_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "SSBTEK_AUDIT_SIGNING_KEY": SIGNING_KEY,
        "SSBTEK_PROVIDER_OPTIONS": "latency=none",
        "SSBTEK_RATE_LIMIT": "",
    }
    try:
        yield World(cluster, directory / "var", directory / "service.log", env)
    finally:
        with contextlib.suppress(RuntimeError):  # already down
            cluster.stop()


def settings() -> Settings:
    return Settings(
        store=Store.POSTGRES,
        postgres=PostgresSettings(port=PORT, dbname="ssbtek", password=PASSWORD),
        pseudonym_key_hex=PSEUDONYM_KEY,
        rate_limit="",
        create_tables=False,
    )


def serving(world: World, since: float, status: int) -> float | None:
    """When health (overall and the query service) first said ``status`` after ``since``."""
    for at, seen in world.health:
        if at >= since and seen == status:
            return at
    return None


async def _load(world: World, stub: pb_grpc.QueryServiceAsyncStub, stop: asyncio.Event) -> None:
    async def one() -> None:
        call = Call(uuid.uuid4().hex, time.monotonic())
        world.calls.append(call)
        try:
            response = await stub.SubmitQuery(request(call.request_id), timeout=CLIENT_DEADLINE_S)
            call.code = grpc.StatusCode.OK
            call.query_id = response.answer.query_id
        except grpc.aio.AioRpcError as error:
            call.code = error.code()
        call.ended = time.monotonic()

    tasks = []
    while not stop.is_set():
        tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(RATE_S)
    await asyncio.gather(*tasks)


async def _watch_health(world: World, channel: grpc.aio.Channel, metrics: str) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    while True:
        at = time.monotonic()
        try:
            overall = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            queries = await stub.Check(
                health_pb2.HealthCheckRequest(service="ssbtek.v1.QueryService"), timeout=1
            )
            both = {overall.status, queries.status}
            world.health.append((at, both.pop() if len(both) == 1 else -1))
        except grpc.aio.AioRpcError:
            world.health.append((at, -2))
        try:
            text = await asyncio.to_thread(_scrape, metrics)
            line = next(x for x in text.splitlines() if x.startswith("ssbtek_store_up{"))
            world.store_up.append((at, line.rsplit(" ", 1)[1]))
        except (OSError, StopIteration):
            pass
        await asyncio.sleep(0.2)


def _scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=1) as response:
        body: bytes = response.read()
    return body.decode()


def _until(
    condition: object, seconds: float, world: World, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + seconds
    assert callable(condition)
    while not condition():
        assert process.poll() is None, world.log.read_text()[-3000:]
        assert time.monotonic() < deadline, world.log.read_text()[-3000:]
        time.sleep(0.1)


def test_the_service_rides_out_database_outages_and_every_retry_is_answered(
    world: World,
) -> None:
    port, metrics_port = free_port(), free_port()
    metrics = f"127.0.0.1:{metrics_port}"
    process = subprocess.Popen(
        [SSBTEK, "serve", "--port", str(port), "--metrics-listen", metrics],
        env=world.env,
        stdout=subprocess.DEVNULL,
        stderr=world.log.open("wb"),
        start_new_session=True,
    )
    try:
        # Started with the cluster down: it waits, naming the server, never the password.
        _until(
            lambda: "waiting for PostgreSQL at 127.0.0.1:55431" in world.log.read_text(),
            30,
            world,
            process,
        )
        time.sleep(1.5)
        assert process.poll() is None
        world.cluster.start()
        _until(lambda: "serving on" in world.log.read_text(), 60, world, process)
        asyncio.run(_outages_under_load(world, port, metrics))
        assert process.poll() is None, "the process stayed up"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    log = world.log.read_text()
    assert process.returncode == 0, log[-3000:]
    assert "Traceback" not in log, log[-5000:]
    assert PASSWORD not in log

    verify = subprocess.run(
        [SSBTEK, "audit", "verify", "--store", "postgres"],
        env=world.env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout.decode()[-3000:] + verify.stderr.decode()


async def _outages_under_load(world: World, port: int, metrics: str) -> None:
    outages: list[tuple[float, float]] = []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stop = asyncio.Event()
        watcher = asyncio.create_task(_watch_health(world, channel, metrics))
        load = asyncio.create_task(_load(world, pb_grpc.QueryServiceStub(channel), stop))
        await asyncio.sleep(3)
        for go_down in (world.cluster.stop, world.cluster.stop_cleanly):  # crash, clean stop
            down = time.monotonic()
            await asyncio.to_thread(go_down)
            await asyncio.sleep(5)
            await asyncio.to_thread(world.cluster.start)
            up = time.monotonic()  # accepting connections from here on
            outages.append((down, up))
            await asyncio.sleep(4)
        killed_at = time.monotonic()
        killed = await asyncio.to_thread(world.cluster.terminate_connections, "ssbtek")
        await asyncio.sleep(6)
        stop.set()
        await load
        watcher.cancel()

        # After the connections were killed, no call failed.
        assert killed >= 2, "the service's connections were there to be killed"
        after_kill = [c for c in world.calls if c.started >= killed_at]
        assert len(after_kill) >= 15
        assert {c.code for c in after_kill} == {grpc.StatusCode.OK}, [
            (round(c.started - killed_at, 2), c.code) for c in after_kill if c.code
        ]

        # Health and the metric told the truth, within 2 s each way.
        for down, up in outages:
            went = serving(world, down, health_pb2.HealthCheckResponse.NOT_SERVING)
            assert went is not None, "health never said NOT_SERVING"
            assert went - down <= HEALTH_WITHIN_S, (went, down)
            back = serving(world, up, health_pb2.HealthCheckResponse.SERVING)
            assert back is not None, "health never said SERVING again"
            assert back - up <= HEALTH_WITHIN_S, (back, up)
            assert any(v == "0.0" for at, v in world.store_up if down <= at <= up)
        assert world.store_up[-1][1] == "1.0"

        # Every call answered or refused within its service level, none to its deadline.
        codes = {c.code for c in world.calls}
        assert codes <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, codes
        slowest = max(c.ended - c.started for c in world.calls)
        assert slowest <= SERVICE_LEVEL_S, slowest
        failed = [c for c in world.calls if c.code is not grpc.StatusCode.OK]
        assert failed, "the outages refused some calls"
        answered = [c for c in world.calls if c.code is grpc.StatusCode.OK]

        reader = build_queries(settings(), base_services={})
        try:
            # Every OK has its whole trail; no failed call's trail says delivered.
            for call in answered:
                query: Query = reader.repository.get(uuid.UUID(call.query_id))
                assert query.status is QueryStatus.ERASED
            for call in failed:
                status = _status(reader, call.request_id)
                assert status not in (QueryStatus.DELIVERED, QueryStatus.ERASED), call

            # Every failed call, retried with the same request id, gets OK.
            stub = pb_grpc.QueryServiceStub(channel)
            for call in failed:
                response = await stub.SubmitQuery(
                    request(call.request_id), timeout=CLIENT_DEADLINE_S
                )
                assert _status(reader, call.request_id) is QueryStatus.ERASED
                assert response.answer.query_id == str(_query_id(reader, call.request_id))
            # ... and only then is it a duplicate.
            with pytest.raises(grpc.aio.AioRpcError) as duplicate:
                await stub.SubmitQuery(request(failed[0].request_id), timeout=10)
            assert duplicate.value.code() is grpc.StatusCode.ALREADY_EXISTS
            open_left = _open_queries(reader)
            assert not open_left, open_left
        finally:
            reader.close()


def _query_id(reader: Queries, request_id: str) -> uuid.UUID:
    """The id the service derives from the organisation and the request id (keyed)."""
    return reader._query_id(OrganisationNumber.parse(ORGANISATION), request_id)


def _status(reader: Queries, request_id: str) -> QueryStatus | None:
    try:
        query: Query = reader.repository.get(_query_id(reader, request_id))
    except Exception:  # never stored: the call was refused before its first write landed
        return None
    return query.status


def _open_queries(reader: Queries) -> list[str]:
    """Queries whose last event opened them: none may be left once every call was retried."""
    ids = {
        uuid.UUID(str(n.originator_id)) for n in reader.recorder.select_notifications(1, 100_000)
    }
    left = []
    for query_id in ids:
        query: Query = reader.repository.get(query_id)
        if query.status in (QueryStatus.RECEIVED, QueryStatus.COMPILED):
            left.append(f"{query_id} {query.status.value}")
    return left
