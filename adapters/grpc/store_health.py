"""``grpc.health.v1`` tells the truth about the store (ADR 23): NOT_SERVING, overall and for
every service that needs the store, while the store cannot be written; SERVING again as soon
as it can. The state comes from the store gate (``application.store_gate``), which hears it
from failed writes, a periodic probe and its own recovery probe; this module only follows it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Sequence

from grpc_health.v1 import health, health_pb2

from application.store_gate import Listener

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class StoreHealthReporter:
    """Sets the health of the server's services from the store's state.

    ``listen`` registers a listener with the store gate (``StoreGate.add_listener``);
    ``attach`` is given the server's health servicer and its services' names by
    ``build_server`` (every registered service needs the store, and so does "" overall)."""

    def __init__(self, listen: Callable[[Listener], None]) -> None:
        self._listen = listen
        self._pending: set[concurrent.futures.Future[None]] = set()

    def attach(self, servicer: health.aio.HealthServicer, services: Sequence[str]) -> None:
        """Called on the loop the health servicer lives on (the server's); the store gate
        may tell of a change from another (the application's): the statuses are set on the
        servicer's own loop either way."""
        names = ("", *services)
        loop = asyncio.get_running_loop()

        def changed(available: bool) -> None:
            done = asyncio.run_coroutine_threadsafe(_set_all(servicer, names, available), loop)
            self._pending.add(done)
            done.add_done_callback(self._pending.discard)

        self._listen(changed)


async def _set_all(
    servicer: health.aio.HealthServicer, names: Sequence[str], available: bool
) -> None:
    status = SERVING if available else NOT_SERVING
    for name in names:
        await servicer.set(name, status)
    log.info(
        "health: %s (the event store %s)",
        "SERVING" if available else "NOT_SERVING",
        "can be written" if available else "cannot be written",
    )
