"""The keeper of the background roles' lease: the roles run while the lease is held, stop
when it cannot be renewed in time (before it could expire), and another process's stop
seals once only if the lease is free then."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.persistence.fencing import FENCE, Fence
from infrastructure.roles import BackgroundRole, BackgroundRoles

TTL_S = 2.0  # renewed every 0.5 s, given up 1.5 s after the last renewal was sent


class FakeLease:
    holder = "node-test/1"
    ttl_s = TTL_S

    def __init__(self, token: int | None = 1) -> None:
        self.token = token
        self.broken = False
        self.released = False

    def acquire(self) -> int | None:
        if self.broken:
            raise ConnectionError("the database is unreachable")
        return self.token

    def fence(self, token: int) -> Fence | None:
        return FencedBy(token)

    def release(self) -> None:
        self.released = True

    def close(self) -> None:
        pass


class FencedBy:
    def __init__(self, token: int) -> None:
        self.token = token

    def check(self, cursor: object) -> None:
        pass


async def _until(condition: object, seconds: float) -> None:
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline
        await asyncio.sleep(0.05)


async def test_the_roles_run_under_the_fence_and_stop_when_the_lease_cannot_be_renewed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lease = FakeLease()
    running: list[object] = []
    held: list[bool] = []

    async def role(stop: asyncio.Event) -> None:
        running.append(FENCE.get())
        try:
            await asyncio.Event().wait()
        finally:
            running.remove(FENCE.get())

    async def changed(now: bool) -> None:
        held.append(now)

    roles = BackgroundRoles(lease, [BackgroundRole("follower", role)], changed=changed)
    roles.start()
    await _until(lambda: running, 2)
    fence = running[0]
    assert isinstance(fence, FencedBy)
    assert fence.token == 1
    assert roles.held
    lease.broken = True
    loop = asyncio.get_running_loop()
    broken_at = loop.time()
    await _until(lambda: not running, 3)
    # It gives up 3/4 of a lease after its last renewal was sent, so before the database can
    # expire the lease (a full lease after that renewal ran): the property that fences it.
    # The quarter lease between the two absorbs this machine's scheduling delays.
    assert loop.time() - broken_at < TTL_S
    assert "background roles lost" in caplog.text
    lease.broken, lease.token = False, 2  # another took it and it expired: taken again
    await _until(lambda: running, 2)
    assert roles.token == 2
    await roles.stop()
    assert lease.released
    assert held == [False, True, False, True, False]


async def test_a_process_without_the_roles_seals_once_on_stopping_only_if_the_lease_is_free() -> (
    None
):
    sealed: list[object] = []
    ran: list[str] = []

    async def seal() -> None:
        sealed.append(FENCE.get())

    async def role(stop: asyncio.Event) -> None:
        ran.append("role")

    lease = FakeLease(token=None)  # another process holds the lease
    roles = BackgroundRoles(lease, [BackgroundRole("sealer", role, finishes=True)], last_seal=seal)
    roles.start()
    await asyncio.sleep(0.1)
    await roles.stop()
    assert sealed == []
    lease = FakeLease(token=None)
    roles = BackgroundRoles(lease, [BackgroundRole("sealer", role, finishes=True)], last_seal=seal)
    roles.start()
    await asyncio.sleep(0.1)
    lease.token = 7  # the holder stopped and released it (the keeper has not asked since)
    await roles.stop()
    assert len(sealed) == 1
    assert isinstance(sealed[0], FencedBy)
    assert sealed[0].token == 7
    assert lease.released
    assert ran == []  # the roles never ran here


async def test_an_excluded_node_never_runs_the_roles(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ssbtek")
    ran: list[str] = []
    held: list[bool] = []

    async def role(stop: asyncio.Event) -> None:
        ran.append("role")

    async def changed(now: bool) -> None:
        held.append(now)

    roles = BackgroundRoles(None, [BackgroundRole("sealer", role, finishes=True)], changed=changed)
    roles.start()
    await asyncio.sleep(0.1)
    await roles.stop()
    assert ran == []
    assert held == [False]
    assert "excluded (SSBTEK_SINGLETONS=off)" in caplog.text
