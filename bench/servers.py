"""Start the server of a rung, as one process or several sharing a port, and stop it.

- ``via="cli"``: the product command itself, ``ssbtek serve [--workers N]``, configured
  through its ``SSBTEK_*`` variables.
- ``via="launcher"``: ``python -m bench.launcher`` (``bench/launcher.py``), for L0, L1,
  and several of them on one port (``SO_REUSEPORT``) where ``ssbtek serve`` has no
  ``--workers`` (an older tree in ``bench.compare``).

Every server runs with the per-organisation rate limit off (``SSBTEK_RATE_LIMIT=``): all
benchmark load comes from the one demo municipality. Everything else keeps its default.

Each start gets a fresh store: a new SQLite file or a new PostgreSQL database, dropped
when the servers have stopped. Server processes are pinned with ``bench.procs.server_cpus``.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Final, Literal, get_args

import attrs

from bench import pg, procs
from bench.config import Context

Kind = Literal["echo", "proxy", "service"]
Store = Literal["memory", "sqlite", "postgres"]
PSEUDONYM_KEY: Final = "5e" * 32
"""A fixed benchmark key (32 bytes), so no key file is made; never a production key."""


@attrs.frozen
class ServerSpec:
    kind: Kind
    store: Store = "memory"
    via: Literal["cli", "launcher"] = "launcher"
    processes: int = 1
    provider_options: str = "latency=none"
    extra_env: tuple[tuple[str, str], ...] = ()
    """More variables for the servers (``bench.compare``: e.g. ``PYTHONPATH`` of another tree)."""
    soap: bool = False
    """Also serve the v10 SOAP facade (``SSBTEK_SOAP_LISTEN``) beside gRPC."""
    organisations: int = 0
    """Launcher only: connect this many more municipalities before serving."""

    @classmethod
    def parse(cls, text: str, extra_env: tuple[tuple[str, str], ...] = ()) -> ServerSpec:
        """``KIND/STORE`` (``service/postgres``): the full service through ``ssbtek serve``,
        the bare rungs through the launcher. An unknown name is ``ValueError``."""
        kind, _, store = text.partition("/")
        for given, known in ((kind, get_args(Kind)), (store, get_args(Store))):
            if given not in known:
                raise ValueError(f"unknown server {text!r}: KIND/STORE of {known}")
        return cls(
            kind=kind,  # type: ignore[arg-type]
            store=store,  # type: ignore[arg-type]
            via="cli" if kind == "service" else "launcher",
            extra_env=extra_env,
        )

    def describe(self) -> str:
        if self.via == "cli":
            how = "ssbtek serve" + (f" --workers {self.processes}" if self.processes > 1 else "")
        else:
            how = f"bench launcher x{self.processes}"
        soap = " with the v10 SOAP facade" if self.soap else ""
        return f"{self.kind}/{self.store} via {how}{soap}, providers {self.provider_options}"


@attrs.frozen
class Running:
    target: str
    pids: tuple[int, ...]
    """Every process of the server: the launcher processes, or ``ssbtek serve`` and its
    workers (CPU time is counted over all of them)."""
    serving_pids: tuple[int, ...]
    """The processes that answer requests (the workers, when there are)."""
    dbname: str | None
    cpus: tuple[int, ...]
    log_paths: tuple[Path, ...]
    soap_url: str | None = None
    """The v10 SOAP endpoint, when the spec asked for it."""


def _environment(
    spec: ServerSpec,
    ctx: Context,
    port: int,
    scratch: Path,
    dbname: str | None,
    soap_port: int | None = None,
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SSBTEK_")}
    env.update(
        {
            "SSBTEK_STORE": spec.store,
            "SSBTEK_DATA_DIR": str(scratch / "var"),
            "SSBTEK_LISTEN": f"127.0.0.1:{port}",
            "SSBTEK_PROVIDER_OPTIONS": spec.provider_options,
            "SSBTEK_PSEUDONYM_KEY": PSEUDONYM_KEY,
            "SSBTEK_LOG_LEVEL": "INFO",
            "SSBTEK_METRICS_LISTEN": "127.0.0.1:0",
            "SSBTEK_RATE_LIMIT": "",
            "SSBTEK_POSTGRES_HOST": ctx.pg.host,
            "SSBTEK_POSTGRES_PORT": str(ctx.pg.port),
            "SSBTEK_POSTGRES_USER": ctx.pg.user,
        }
    )
    if dbname is not None:
        env["SSBTEK_POSTGRES_DBNAME"] = dbname
    if soap_port is not None:
        env["SSBTEK_SOAP_LISTEN"] = f"127.0.0.1:{soap_port}"
    env.update(spec.extra_env)
    return env


def _ssbtek() -> str:
    return str(Path(procs.PYTHON).parent / "ssbtek")


@functools.cache
def serve_has_workers() -> bool:
    """Whether this tree's ``ssbtek serve`` has ``--workers``."""
    shown = subprocess.run(  # noqa: S603 (the project's own entry point)
        [_ssbtek(), "serve", "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    return "--workers" in shown.stdout


def _argv(spec: ServerSpec, index: int) -> list[str]:
    if spec.via == "cli":
        if spec.kind != "service":
            raise ValueError("ssbtek serve runs the full service with the configured providers")
        workers = ["--workers", str(spec.processes)] if spec.processes > 1 else []
        return [_ssbtek(), "serve", *workers]
    argv = [procs.PYTHON, "-m", "bench.launcher", "--rung", spec.kind]
    if spec.organisations:
        argv += ["--organisations", str(spec.organisations)]
    if spec.processes > 1:
        argv += ["--reuse-port", "--worker-index", str(index)]
    return argv


@contextmanager
def running(spec: ServerSpec, ctx: Context) -> Iterator[Running]:
    """The servers of ``spec``, serving; stopped (and their store dropped) afterwards."""
    with ExitStack() as stack:
        dbname = None
        if spec.kind == "service" and spec.store == "postgres":
            dbname = stack.enter_context(pg.temporary_database(ctx.pg, "serve"))
        scratch = Path(tempfile.mkdtemp(prefix="serve-", dir=ctx.workdir))
        port = procs.free_port()
        soap_port = procs.free_port() if spec.soap else None
        env = _environment(spec, ctx, port, scratch, dbname, soap_port)
        cpus = procs.server_cpus(spec.processes)
        started = []
        try:
            log_paths = []
            pids: list[int] = []
            serving_pids: list[int] = []
            launches = 1 if spec.via == "cli" else spec.processes
            for index in range(launches):
                # Launcher processes start one after the other: each creates the tables and
                # seeds the demo municipality itself (``ssbtek serve --workers`` prepares the
                # store once before starting its workers; N launchers starting together on
                # an empty PostgreSQL database race in CREATE TABLE and one dies).
                log_path = scratch / f"server-{index}.log"
                log_paths.append(log_path)
                process = procs.spawn(
                    _argv(spec, index), cpus=cpus, env=env, log_path=log_path, cwd=ctx.root
                )
                started.append(process)
                serving = spec.processes if spec.via == "cli" else 1
                procs.wait_until_serving(process, log_path, processes=serving)
                pids.append(process.pid)
                workers = []
                if spec.via == "cli" and spec.processes > 1:
                    workers = procs.spawned_workers(process.pid)
                    pids += workers
                serving_pids += workers or [process.pid]
            yield Running(
                target=f"127.0.0.1:{port}",
                pids=tuple(pids),
                serving_pids=tuple(serving_pids),
                dbname=dbname,
                cpus=tuple(sorted(cpus)),
                log_paths=tuple(log_paths),
                soap_url=f"http://127.0.0.1:{soap_port}/ssbtek" if soap_port else None,
            )
        finally:
            for process in started:
                procs.stop(process)
