"""Starting `ssbtek` as its own process in the end-to-end tests: a free port, the command,
and the variables that point it at a test's PostgreSQL database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from infrastructure.settings import PostgresSettings

SSBTEK = str(Path(sys.executable).parent / "ssbtek")
"""The installed `ssbtek` command beside this interpreter."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_env(database: PostgresSettings) -> dict[str, str]:
    """``SSBTEK_STORE=postgres`` on ``database``."""
    return {
        "SSBTEK_STORE": "postgres",
        "SSBTEK_POSTGRES_HOST": database.host,
        "SSBTEK_POSTGRES_PORT": str(database.port),
        "SSBTEK_POSTGRES_USER": database.user,
        "SSBTEK_POSTGRES_DBNAME": database.dbname,
    }


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's session, SIGKILL if it lingers past 15 s."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
