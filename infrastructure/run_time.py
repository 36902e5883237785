"""Wiring of the service's record of its own running time (``application/running_time.py``).

runs = build_service_runs(settings, clock=clock)        # its own store: ``serviceruns``
recorder = RunTimeRecorder(runs, node=node_name(settings), worker=worker)
"""

from __future__ import annotations

import hashlib
import hmac
import socket
from typing import Final

from application.ports import Clock
from application.running_time import ServiceRuns
from infrastructure.bootstrap import persistence_env, pseudonym_key
from infrastructure.settings import Settings

RUNS_STORE: Final = "serviceruns"
"""``ServiceRuns.name.lower()``: ``serviceruns.sqlite3``, or the table ``serviceruns_events``."""


def build_service_runs(settings: Settings, *, clock: Clock) -> ServiceRuns:
    return ServiceRuns(env=persistence_env(settings, RUNS_STORE), clock=clock)


def node_name(settings: Settings) -> str:
    """This node in the records: a keyed digest of the host's name (a host may be named after
    a person; the digest names it without saying it), the same on every start."""
    digest = hmac.new(pseudonym_key(settings), socket.gethostname().encode(), hashlib.sha256)
    return f"node-{digest.hexdigest()[:12]}"
