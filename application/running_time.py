"""The service's record of its own running time (ADR 0012): ``ServiceRuns`` and the recorder.

Every process of the service (each worker of each node) keeps one ``ServiceRun``: started
when its server is listening, still up about every minute, stopped when it has finished
its calls. The monthly report reads these records as the evidence of when the service was
running; a minute without any is never counted as available.

    recorder = RunTimeRecorder(runs, node=node, worker=worker)
    await recorder.start()    # after the server started
    ...
    await recorder.stop()     # after the server stopped: ends the minute loop, records Stopped
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from uuid import UUID

from application.base import ServiceApplication
from application.ports import Clock
from domain.running.service_run import HEARTBEAT_S, ServiceRun

log = logging.getLogger(__name__)


class ServiceRuns(ServiceApplication):
    """The runs of the service's processes, in their own store (``serviceruns``)."""

    name = "ServiceRuns"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {ServiceRun: 500}

    def __init__(self, *, env: Mapping[str, str], clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._live: dict[UUID, ServiceRun] = {}
        """This process's runs, kept so a heartbeat does not read the run back."""
        super().__init__(env=env)

    def start(self, *, node: str, worker: int, heartbeat_s: int = HEARTBEAT_S) -> UUID:
        run = ServiceRun.start(
            run_id=uuid.uuid4(),
            node=node,
            worker=worker,
            heartbeat_s=heartbeat_s,
            at=self._clock.now(),
        )
        with self._lock:
            self.save(run)
            self._live[run.id] = run
        return run.id

    def still_up(self, run_id: UUID) -> None:
        self._change_run(run_id, lambda run: run.still_up(at=self._clock.now()))

    def stop(self, run_id: UUID) -> None:
        self._change_run(run_id, lambda run: run.stop(at=self._clock.now()))
        self._live.pop(run_id, None)

    def _change_run(self, run_id: UUID, change: Callable[[ServiceRun], None]) -> None:
        with self._lock:
            run = self._live.get(run_id) or self.repository.get(run_id)
            change(run)
            try:
                self.save(run)
            except Exception:
                # the event may or may not be stored: read the run back next time
                self._live.pop(run_id, None)
                raise
            self._live[run_id] = run


class RunTimeRecorder:
    """Records one process's run: ``start``, then every ``interval_s`` still up, ``stop``."""

    def __init__(
        self, runs: ServiceRuns, *, node: str, worker: int, interval_s: int = HEARTBEAT_S
    ) -> None:
        self._runs = runs
        self._node = node
        self._worker = worker
        self._interval_s = interval_s
        self._run_id: UUID | None = None
        self._loop: asyncio.Task[None] | None = None

    @property
    def run_id(self) -> UUID | None:
        return self._run_id

    async def start(self) -> None:
        self._run_id = await asyncio.to_thread(
            self._runs.start, node=self._node, worker=self._worker, heartbeat_s=self._interval_s
        )
        self._loop = asyncio.create_task(self._still_up_every_interval(self._run_id))

    async def _still_up_every_interval(self, run_id: UUID) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await asyncio.to_thread(self._runs.still_up, run_id)
            except Exception as error:  # the store may be down: the gap is the evidence
                log.warning("recording the running time failed: %s", type(error).__name__)

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        if self._run_id is not None:
            try:
                await asyncio.to_thread(self._runs.stop, self._run_id)
            except Exception as error:
                log.warning("recording the stop failed: %s", type(error).__name__)
