"""The service as `ssbtek serve` runs it, plus a checkpoint that SIGKILLs the process.

    CRASH_AT=before-save CRASH_ON=3 python -m tests.reliability.crash_server

kills itself the third time the saga reaches ``before-save``. It prints ``PORT <n>`` once
it serves. Test-only: production never passes a checkpoint that does anything.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from adapters.grpc.server import build_server
from adapters.providers.simulated import FixedLatency, SimulatedBaseService, SimulationProfile
from adapters.system_clock import SystemClock
from application.ports import BaseService
from application.queries import Queries, SagaSettings
from domain.providers import Provider
from infrastructure.composition import build_queries, build_service_management
from infrastructure.settings import Settings, Store


class KillAt:
    def __init__(self, point: str, on: int) -> None:
        self._point = point
        self._left = on

    def reached(self, name: str) -> None:
        if name != self._point:
            return
        self._left -= 1
        if self._left == 0:
            os.kill(os.getpid(), signal.SIGKILL)


async def main() -> None:
    settings = Settings(
        store=Store.SQLITE,
        data_dir=Path(os.environ["SSBTEK_DATA_DIR"]),
        pseudonym_key_hex="66" * 32,
        rate_limit="",
        metrics_listen="",
    )
    profile = SimulationProfile(latency=FixedLatency(0.02))
    services: dict[Provider, BaseService] = {p: SimulatedBaseService(p, profile) for p in Provider}
    for failing in os.environ.get("FAILING", "").split(","):
        if failing:
            services[Provider[failing]] = SimulatedBaseService(
                Provider[failing], SimulationProfile(latency=FixedLatency(0.02), error_rate=1.0)
            )
    crash_at = os.environ.get("CRASH_AT", "")
    queries = build_queries(
        settings,
        base_services=services,
        checkpoints=KillAt(crash_at, int(os.environ.get("CRASH_ON", "1"))) if crash_at else None,
        saga=SagaSettings(budget_fraction=0.05, abandon_grace_s=0.0),
    )
    queries.close_abandoned()  # the recovery step, as the service runs it at start
    if os.environ.get("FOLLOW"):
        await _follow(settings, queries, KillAt(crash_at, int(os.environ.get("CRASH_ON", "1"))))
    server, port = await build_server(queries, address="127.0.0.1:0")
    await server.start()
    print(f"PORT {port}", flush=True)
    await asyncio.Event().wait()


async def _follow(settings: Settings, queries: Queries, kill: KillAt) -> None:
    """The automatic-incident follower, processing as the service's scheduler does, with a
    checkpoint ``process`` inside its policy: before the effects of one query event commit."""
    management = build_service_management(settings, clock=SystemClock(), queries=queries)
    incidents = management.incidents
    policy = incidents.policy

    def killing_policy(domain_event: Any, processing_event: Any) -> None:
        kill.reached("process")
        policy(domain_event, processing_event)

    incidents.policy = killing_policy  # type: ignore[method-assign]

    async def keep_processing() -> None:
        await asyncio.sleep(0.5)  # serve first: the test connects before the follower dies
        while True:
            await asyncio.to_thread(incidents.process_queries)
            await asyncio.sleep(0.05)

    asyncio.get_running_loop().create_task(keep_processing())


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
