"""``ServiceRun``: one process of the service, from its start to its stop.

The service's own evidence of when it was running (ADR 0012): a process records that it
started, that it is still up about every minute, and that it stopped. Nothing personal:
a node name (a keyed digest of the host's name, never the name itself), the worker's
index, and the times. A process that dies records no ``Stopped``: its records just end.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import DomainError

HEARTBEAT_S: Final = 60
"""A running process records ``StillUp`` this often."""
_NODE: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


class ServiceRunError(DomainError):
    """A run was recorded out of order (after its stop) or with a malformed node name."""


class ServiceRun(Aggregate):
    """When one process of the service was running."""

    class Started(Aggregate.Created):
        node: str
        worker: int
        heartbeat_s: int

        def apply(self, aggregate: ServiceRun) -> None:
            aggregate.node = self.node
            aggregate.worker = self.worker
            aggregate.heartbeat_s = self.heartbeat_s

    class StillUp(Aggregate.Event):
        pass

    class Stopped(Aggregate.Event):
        def apply(self, aggregate: ServiceRun) -> None:
            aggregate.stopped = True

    def __init__(self) -> None:
        self.node = ""
        self.worker = 0
        self.heartbeat_s = HEARTBEAT_S
        self.stopped = False

    @classmethod
    def start(
        cls,
        *,
        run_id: UUID,
        node: str,
        worker: int,
        at: dt.datetime,
        heartbeat_s: int = HEARTBEAT_S,
    ) -> ServiceRun:
        if not _NODE.fullmatch(node) or worker < 0 or heartbeat_s <= 0:
            raise ServiceRunError("a node is named by 1-32 of a-z, 0-9 and '-'")
        return cls._create(
            cls.Started, id=run_id, timestamp=at, node=node, worker=worker, heartbeat_s=heartbeat_s
        )

    def still_up(self, *, at: dt.datetime) -> None:
        self._running()
        self.trigger_event(self.StillUp, timestamp=at)

    def stop(self, *, at: dt.datetime) -> None:
        self._running()
        self.trigger_event(self.Stopped, timestamp=at)

    def _running(self) -> None:
        if self.stopped:
            raise ServiceRunError("a stopped run records nothing more")
