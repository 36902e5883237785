"""Processes: start them pinned to cores, read their CPU time and memory, stop them.

CPU time is ``utime + stime`` of ``/proc/<pid>/stat`` (all threads of the process, the
gRPC core's threads included), in seconds. Memory is ``VmRSS`` of ``/proc/<pid>/status``.
Only processes this suite started are ever signalled, by their own id.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")
PYTHON: Final = sys.executable
_SERVING = re.compile(r"serving on [\d.]+:(\d+)")


def all_cpus() -> frozenset[int]:
    return frozenset(os.sched_getaffinity(0))


def client_cpus() -> frozenset[int]:
    """The load generator's core: the lowest one this process may use."""
    return frozenset({min(all_cpus())})


def server_cpus(processes: int) -> frozenset[int]:
    """Cores for ``processes`` server processes: every core but the client's when there
    are enough of them (one each), else all cores, shared with the load generator."""
    everything = all_cpus()
    rest = everything - client_cpus()
    return rest if len(rest) >= processes else everything


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` (every thread), in seconds; 0 if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    # after "(comm) ": state is field 3, utime field 14, stime field 15 (1-based in proc(5))
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """User and system CPU seconds of every process on the machine since boot
    (``/proc/stat``: user, nice, system; interrupts and idle left out)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system = (int(f) for f in fields[:3])
    return (user + nice + system) / CLOCK_TICKS


def total_cpu_seconds(pids: Iterable[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` in bytes; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def pinned(argv: Sequence[str], cpus: frozenset[int]) -> list[str]:
    """``argv`` started through ``bench.pin``, which sets the affinity before ``exec``,
    so every thread the program makes inherits it."""
    return [PYTHON, "-m", "bench.pin", ",".join(map(str, sorted(cpus))), "--", *argv]


def spawn(
    argv: Sequence[str],
    *,
    cpus: frozenset[int],
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` pinned to ``cpus`` in its own session, output to ``log_path``."""
    with log_path.open("ab") as log_file:
        return subprocess.Popen(  # noqa: S603 (our own interpreter and modules)
            pinned(argv, cpus),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_serving(
    process: subprocess.Popen[bytes],
    log_path: Path,
    *,
    processes: int = 1,
    timeout_s: float = 90.0,
) -> int:
    """The port the server logged (``serving on host:port``), once ``processes`` of its
    processes have said so."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = _SERVING.findall(log_path.read_text(errors="replace"))
        if len(found) >= processes:
            return int(found[0])
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"the server did not start:\n{tail(log_path)}")


def spawned_workers(pid: int) -> list[int]:
    """The ``multiprocessing`` workers ``pid`` started (``ssbtek serve --workers``), not
    its resource tracker."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:
                found.append(child)
    return sorted(found)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop(process: subprocess.Popen[bytes], *, grace_s: float = 15.0) -> None:
    """SIGTERM to the process we started, then SIGKILL to its own session if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def git_state(tree: Path) -> dict[str, object]:
    """The commit a checkout is at, and whether it has local changes."""
    git = shutil.which("git")
    if git is None:
        return {"commit": "unknown", "dirty": True}

    def output(*args: str) -> str:
        return subprocess.run(  # noqa: S603 (git, found on PATH, fixed arguments)
            [git, *args], cwd=tree, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {
        "commit": output("rev-parse", "--short", "HEAD"),
        "dirty": bool(output("status", "--porcelain")),
    }
