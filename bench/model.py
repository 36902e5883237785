"""What the load generator is told (``LoadSpec``) and what it hands back (``LoadOutcome``).

Both cross a process boundary as JSON (``cattrs``), so they hold plain values only.
"""

from __future__ import annotations

import json
from typing import Literal, TypeVar

import attrs
import cattrs

Mode = Literal["closed", "open"]
Probe = Literal["answer", "echo", "soap"]
"""``soap``: the target is the v10 SOAP URL, the answer one ``svarsdata`` of 7 blocks."""

_converter = cattrs.Converter()
T = TypeVar("T")


@attrs.frozen
class Segment:
    """Open loop: ``rate_qps`` arrivals per second from ``start_s`` to ``end_s``."""

    start_s: float
    end_s: float
    rate_qps: float


@attrs.frozen
class LoadSpec:
    target: str
    """``host:port`` of the gRPC server, or the SOAP endpoint's URL (probe ``soap``)."""
    mode: Mode
    duration_s: float
    """Closed loop: how long to keep sending. Open loop: the schedule's end."""
    timeout_s: float
    """The gRPC deadline of every call; bounds every request in time."""
    probe: Probe = "answer"
    channels: int = 8
    """Client connections (``grpc.use_local_subchannel_pool``), used in turn, so that
    several server processes sharing a port with ``SO_REUSEPORT`` all get connections."""
    concurrency: int = 1
    """Closed loop: requests in flight at all times."""
    segments: tuple[Segment, ...] = ()
    """Open loop: the arrival schedule; rates of overlapping segments add up."""
    max_requests: int = 2_000_000
    max_in_flight: int = 5000
    subjects_min: int = 1
    subjects_max: int = 1
    seed: int = 0
    warmup_s: float = 0.0
    warmup_concurrency: int = 4
    server_pids: tuple[int, ...] = ()
    pg_admin_conninfo: str = ""
    organisations: tuple[str, ...] = ()
    """The asking organisations, taken in turn (empty: the demo municipality alone)."""
    pg_dbname: str = ""
    """When set, the CPU time of the PostgreSQL backends serving this database is read
    at the window's start and end too (new backends count whole)."""


@attrs.frozen
class LoadOutcome:
    window_s: float
    """From the first (intended) send to the last completion."""
    sent: int
    latencies_ms: list[float]
    """Open loop: completion minus the INTENDED send time (no coordinated omission).
    Closed loop: completion minus the actual send time."""
    offsets_s: list[float]
    """Intended (open) or actual (closed) send time, from the window's start."""
    subject_counts: list[int]
    codes: list[str]
    """gRPC status code name of every request, ``OK`` when answered."""
    max_send_lag_ms: float
    """Open loop: the most a send left after its intended time (the generator's health)."""
    server_cpu_s: float
    client_cpu_s: float
    pg_cpu_s: float | None
    machine_cpu_s: float
    """User and system CPU seconds of the whole machine over the window."""
    probe: dict[str, int]


def dumps(value: object) -> str:
    return json.dumps(_converter.unstructure(value))


def loads(text: str, kind: type[T]) -> T:
    return _converter.structure(json.loads(text), kind)
