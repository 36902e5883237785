"""The background roles: what runs once for all the nodes on one store, held by a lease.

The roles are the event followers (automatic incidents) with the deadline check, the audit
sealer, and recovery. Every process of every node is a candidate unless excluded
(``SSBTEK_SINGLETONS=off``); the one that holds the lease runs them, under its fence
(``adapters.persistence.fencing``), so a write of a process that lost the lease is
refused in its own transaction (ADR 13):

    roles = BackgroundRoles(lease, [BackgroundRole(...), ...], node="node-3f2a...", ...)
    keeping = asyncio.create_task(roles.keep())   # takes, renews, gives up, takes over
    ...
    await roles.stop()                           # the roles finish (the last seal), released

Every quarter lease the keeper takes or renews the lease (in a worker thread, on the
lease's own connection). The holder gives the roles up when it has not renewed for three
quarters of the lease, a quarter before the lease can expire in the database, so it has
stopped before another process can take the lease; another takes over within a quarter
lease after it expires: at most 1.25 leases after the holder dies or loses the database.
A holder that stops releases the lease, so another takes over within a quarter lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Final, Protocol

import attrs

from adapters.persistence.fencing import Fence, fenced

log = logging.getLogger("ssbtek")

ROLES_HEALTH: Final = "ssbtek.v1.BackgroundRoles"
"""The health service name that is SERVING in the process holding the background roles."""


class Lease(Protocol):
    """Granted to one process at a time: the token while held (``adapters.persistence``)."""

    holder: str
    ttl_s: float

    def acquire(self) -> int | None: ...

    def fence(self, token: int) -> Fence | None: ...

    def release(self) -> None: ...

    def close(self) -> None: ...


@attrs.frozen
class BackgroundRole:
    """One background role: ``run(stop)`` until cancelled; with ``finishes`` it also ends when
    ``stop`` is set, after its last piece of work (the sealer's last seal)."""

    name: str
    run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]
    finishes: bool = False


class BackgroundRoles:
    """Keeps the lease and runs the roles while it is held (see the module docstring)."""

    def __init__(
        self,
        lease: Lease | None,
        roles: Sequence[BackgroundRole],
        *,
        taken: Callable[[], None] = lambda: None,
        changed: Callable[[bool], Awaitable[None]] | None = None,
        last_seal: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """``lease`` None: this process is excluded and never holds the roles. ``taken`` runs
        when the roles are taken (forget what was kept from an earlier holding); ``changed``
        is told whether they are held now; ``last_seal`` seals once on stopping in a process
        that did not hold the roles, if it can take the lease then."""
        self._lease = lease
        self._roles = tuple(roles)
        self._taken = taken
        self._changed = changed
        self._last_seal = last_seal
        self._stopping = asyncio.Event()
        self._token: int | None = None
        self._valid_until = 0.0
        self._role_stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._failing = ""
        self._closing = False
        self._keeper: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        return self._token is not None

    @property
    def token(self) -> int | None:
        return self._token

    def start(self) -> None:
        """Start keeping the lease (a task of the running loop) until ``stop``."""
        self._keeper = asyncio.create_task(self._keep(), name="background roles lease")

    async def _keep(self) -> None:
        lease = self._lease
        if lease is None:
            log.info("background roles: this node is excluded (SSBTEK_SINGLETONS=off)")
            await self._tell(False)
            return
        log.info(
            "background roles: a candidate as %s (lease %g s, take-over within %g s)",
            lease.holder,
            lease.ttl_s,
            lease.ttl_s * 1.25,
        )
        await self._tell(False)
        stopping: asyncio.Future[Any] = asyncio.ensure_future(self._stopping.wait())
        try:
            await self._renew_until_stopped(lease, stopping)
        except Exception as error:  # a bug here must not leave roles running unrenewed
            log.error("background roles: the lease keeper failed: %s", type(error).__name__)
            if self.held:
                await self._lose("the lease keeper failed")
        finally:
            stopping.cancel()

    async def _renew_until_stopped(self, lease: Lease, stopping: asyncio.Future[Any]) -> None:
        loop = asyncio.get_running_loop()
        quarter = lease.ttl_s / 4
        pending: asyncio.Future[int | None] | None = None
        sent = 0.0
        while not self._stopping.is_set():
            if pending is None:
                sent = loop.time()
                pending = asyncio.ensure_future(asyncio.to_thread(lease.acquire))
            either: set[asyncio.Future[Any]] = {pending, stopping}
            await asyncio.wait(either, timeout=quarter, return_when=asyncio.FIRST_COMPLETED)
            if pending.done():
                answer, pending = pending, None
                await self._answered(answer, sent, lease)
            if self.held and loop.time() >= self._valid_until:
                await self._lose("not renewed within three quarters of the lease")
            wake = sent + quarter
            if self.held:
                wake = min(wake, self._valid_until)
            await asyncio.wait({stopping}, timeout=max(0.0, wake - loop.time()))
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)

    async def _answered(
        self, answer: asyncio.Future[int | None], sent: float, lease: Lease
    ) -> None:
        try:
            token = answer.result()
        except Exception as error:
            if self._failing != type(error).__name__:
                self._failing = type(error).__name__
                log.warning(
                    "background roles: the lease could not be renewed or taken: %s", self._failing
                )
            return
        self._failing = ""
        if token is None:
            if self.held:
                await self._lose("another process holds the lease")
            return
        if self.held and token != self._token:
            await self._lose("the lease expired before it was renewed")
        self._valid_until = sent + lease.ttl_s * 3 / 4
        if not self.held and not self._closing:
            await self._take(token, lease)
        elif not self.held:
            self._token = token  # taken while stopping: ``stop`` seals once and releases it

    async def _take(self, token: int, lease: Lease) -> None:
        self._token = token
        self._taken()
        self._role_stop = asyncio.Event()
        stop = self._role_stop
        with fenced(lease.fence(token)):  # the tasks copy this context, and their threads too
            self._tasks = [
                asyncio.create_task(role.run(stop), name=f"role {role.name}")
                for role in self._roles
            ]
        log.info(
            "background roles taken (lease token %d): %s",
            token,
            ", ".join(role.name for role in self._roles),
        )
        await self._tell(True)

    async def _lose(self, why: str) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        log.warning("background roles lost (lease token %s): %s; stopped them", self._token, why)
        self._token = None
        await self._tell(False)

    async def _tell(self, held: bool) -> None:
        if self._changed is not None:
            await self._changed(held)

    async def stop(self) -> None:
        """The roles finish their last work (the last seal) while the lease is still renewed,
        then it is released; a process that did not hold them seals once if it can take the
        lease now (the holder may have stopped first)."""
        self._closing = True
        self._role_stop.set()
        tasks = list(self._tasks)
        ran_roles = bool(tasks)
        for task, role in zip(tasks, self._roles, strict=False):  # none, or one per role
            if not role.finishes:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks = []
        self._stopping.set()
        if self._keeper is not None:
            await self._keeper
        lease = self._lease
        if lease is None:
            return
        if not ran_roles and self._last_seal is not None:
            await self._seal_if_free(lease)
        if self.held:
            await asyncio.to_thread(lease.release)
            log.info("background roles released on stopping (lease token %s)", self._token)
            self._token = None
            await self._tell(False)
        await asyncio.to_thread(lease.close)

    async def _seal_if_free(self, lease: Lease) -> None:
        assert self._last_seal is not None
        try:
            token = await asyncio.to_thread(lease.acquire)
        except Exception as error:
            log.info("no last seal from this process: %s", type(error).__name__)
            return
        if token is None:
            return  # the holder seals what this process wrote
        self._token = token
        with fenced(lease.fence(token)):
            await self._last_seal()
