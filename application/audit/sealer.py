"""The sealer: seals every application's log periodically, and once more when stopped.

    stop = asyncio.Event()
    sealing = asyncio.create_task(run_sealer(seals, applications, 60, stop))
    ...                      # serve; on shutdown, after the server stopped taking calls:
    stop.set(); await sealing  # the last seal covers every event written before it

The store work runs in a worker thread, paced (``application.pacing``): a minute's events
at full load are read and hashed in pieces with pauses between, so the queries do not wait
behind the round; the last seal on stopping is not paced. A round that fails (the store is
down) is logged by exception type and retried next round; when another process sealed the
same log first, its seal stands and the next round continues from it. Of all the processes
on one store, the one holding the background roles' lease runs ``run_sealer`` (ADR 13).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from eventsourcing.persistence import IntegrityError

from application.audit.ports import EventLog
from application.audit.seals import AuditSeals
from application.pacing import Pace, Pacer, no_pacing
from domain.audit.chain import SealContent

log = logging.getLogger(__name__)


def seal_all(
    seals: AuditSeals, applications: Mapping[str, EventLog], *, pace: Pace = no_pacing
) -> dict[str, list[SealContent]]:
    """Seal each application's log now (synchronously); the seals made, per application.

    One application's failure does not stop the others; it is logged and sealing it is
    tried again next time.
    """
    made: dict[str, list[SealContent]] = {}
    for name, application in applications.items():
        try:
            made[name] = seals.seal(name, application.recorder, pace=pace)
        except IntegrityError:
            log.info("another process sealed the %s log first; it is sealed", name)
            made[name] = []
        except Exception as error:
            log.error("sealing the %s log failed: %s", name, type(error).__name__)
            made[name] = []
    return made


async def seal_now(
    seals: AuditSeals, applications: Mapping[str, EventLog]
) -> dict[str, list[SealContent]]:
    """Seal every log now, in a worker thread (e.g. on shutdown)."""
    return await asyncio.to_thread(seal_all, seals, applications)


async def run_sealer(
    seals: AuditSeals,
    applications: Mapping[str, EventLog],
    interval_s: float,
    stop: asyncio.Event,
) -> None:
    """Seal every ``interval_s`` seconds until ``stop`` is set, then seal once more and return."""
    if interval_s <= 0:
        raise ValueError("the sealing interval must be positive")
    while not stop.is_set():
        await asyncio.to_thread(seal_all, seals, applications, pace=Pacer())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
    await seal_now(seals, applications)
    log.info("sealed the audit trail on stopping")
