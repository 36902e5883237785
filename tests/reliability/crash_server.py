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

from adapters.grpc.server import build_server
from adapters.providers.simulated import FixedLatency, SimulatedBaseService, SimulationProfile
from application.ports import BaseService
from application.queries import SagaSettings
from domain.providers import Provider
from infrastructure.bootstrap import build_queries
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
    crash_at = os.environ.get("CRASH_AT", "")
    queries = build_queries(
        settings,
        base_services=services,
        checkpoints=KillAt(crash_at, int(os.environ.get("CRASH_ON", "1"))) if crash_at else None,
        saga=SagaSettings(budget_fraction=0.05, abandon_grace_s=0.0),
    )
    queries.close_abandoned()  # the recovery step, as the service runs it at start
    server, port = await build_server(queries, address="127.0.0.1:0")
    await server.start()
    print(f"PORT {port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
