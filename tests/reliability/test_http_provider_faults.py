"""Provider faults over a real network: the HTTP adapter against a fault-injecting server.

A slow drip, a reset connection, a refused connection, an answer far larger than expected
and an error status, for one, four and all eight providers: every query is answered by
its deadline with the right per-provider error; connections and tasks return to baseline.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator

import pytest

from adapters.providers.http_json import build_http_base_services
from application.ports import BaseService
from domain.providers import Provider
from domain.query.values import ErrorSource, OutcomeKind
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock
from tests.reliability.fault_http_server import FaultServer
from tests.unit.application.test_query_saga import WEDNESDAY_NOON, command

EXPECTED = {
    "drip": (ErrorSource.SSBT, "TIMEOUT"),
    "reset": (ErrorSource.SSBT, "UNREACHABLE"),
    "refused": (ErrorSource.SSBT, "UNREACHABLE"),
    "huge": (ErrorSource.SSBT, "MALFORMED_ANSWER"),
    "error": (ErrorSource.BT, "9071001"),
    "proxy-503": (ErrorSource.BT, "HTTP_503"),
}
SETTINGS = Settings(
    store=Store.MEMORY, pseudonym_key_hex="99" * 32, rate_limit="", budget_fraction=0.1
)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def services_for(
    mode: str, faulty: list[Provider]
) -> tuple[FaultServer, dict[Provider, BaseService]]:
    server = FaultServer({p: mode for p in faulty} if mode != "refused" else {})
    url = await server.start()
    options = {"url": url}
    if mode == "refused":
        options |= {f"{p.name}.url": f"http://127.0.0.1:{closed_port()}" for p in faulty}
    return server, build_http_base_services(options)


@pytest.fixture
async def cleanup() -> AsyncIterator[list[FaultServer]]:
    servers: list[FaultServer] = []
    yield servers
    for server in servers:
        await server.stop()


@pytest.mark.parametrize("mode", sorted(EXPECTED))
@pytest.mark.parametrize("count", [1, 4, 8])
async def test_each_network_fault_is_reported_per_provider_by_the_deadline(
    mode: str, count: int, cleanup: list[FaultServer]
) -> None:
    faulty = list(Provider)[:count]
    server, services = await services_for(mode, faulty)
    cleanup.append(server)
    queries = build_queries(SETTINGS, base_services=services, clock=FakeClock(WEDNESDAY_NOON))
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await queries.submit(command())
    assert loop.time() - started < SETTINGS.budget_fraction * 7 + 0.5
    for part in answer.parts:
        if part.provider in faulty:
            assert part.kind is OutcomeKind.ERROR, (mode, part.provider)
            assert part.error is not None
            assert (part.error.source, part.error.code) == EXPECTED[mode]
        else:
            assert part.kind in (OutcomeKind.ANSWERED, OutcomeKind.NO_DATA), part.provider
    queries.close()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_dripping_and_reset_connections_are_closed_and_tasks_return_to_baseline(
    cleanup: list[FaultServer],
) -> None:
    server, services = await services_for("drip", list(Provider)[:2])
    cleanup.append(server)
    reset = FaultServer({p: "reset" for p in list(Provider)[2:4]})
    cleanup.append(reset)
    reset_url = await reset.start()
    for provider in list(Provider)[2:4]:
        services[provider] = build_http_base_services({"url": reset_url})[provider]
    queries = build_queries(SETTINGS, base_services=services, clock=FakeClock(WEDNESDAY_NOON))
    await queries.submit(command())  # warm up the connection pools
    await asyncio.sleep(0.2)
    tasks, fds = len(asyncio.all_tasks()), open_fds()
    for _ in range(3):
        await queries.submit(command())
    await asyncio.sleep(0.3)  # the cancelled drips' sockets are closed, the server sees EOF
    assert len(asyncio.all_tasks()) <= tasks
    assert open_fds() <= fds
    queries.close()
