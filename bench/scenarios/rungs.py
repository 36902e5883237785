"""The ladder's rungs: the same request, from a bare gRPC echo up to the full service
on PostgreSQL."""

from __future__ import annotations

from typing import Final

import attrs

from bench.model import Probe
from bench.servers import ServerSpec


@attrs.frozen
class Rung:
    name: str
    title: str
    server: ServerSpec
    probe: Probe = "answer"

    @property
    def has_providers(self) -> bool:
        return self.server.kind != "echo"

    def with_providers(self, provider_options: str) -> ServerSpec:
        return attrs.evolve(self.server, provider_options=provider_options)

    def as_launcher(self, processes: int) -> ServerSpec:
        """The same rung from ``bench.launcher``, ``processes`` of it on one port."""
        return attrs.evolve(self.server, via="launcher", processes=processes)


RUNGS: Final = (
    Rung("L0", "bare grpc.aio echo", ServerSpec("echo"), probe="echo"),
    Rung("L1", "bare fan-out proxy, 8 simulated providers", ServerSpec("proxy")),
    Rung("L2", "full service, in-memory store", ServerSpec("service", "memory", via="cli")),
    Rung("L3", "full service, SQLite store", ServerSpec("service", "sqlite", via="cli")),
    Rung(
        "L4",
        "full service, PostgreSQL store (synchronous_commit on)",
        ServerSpec("service", "postgres", via="cli"),
    ),
)


def rung(name: str) -> Rung:
    return next(r for r in RUNGS if r.name == name)
