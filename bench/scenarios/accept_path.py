"""accept_path: how fast a busy process refuses, with the gRPC server on the application's
event loop and on a loop of its own (ADR 26, amended), side by side in one run.

A bare ``grpc.aio`` server whose one method refuses every call (``RESOURCE_EXHAUSTED``, no
other work: what admission control does past the limit), in a process whose application
loop is kept busy by work in slices of ``SLICE_S`` (a stand-in for queries in progress).
Two arrangements of the same process:

- ``shared``: the server on the application's loop (the service before the amendment);
- ``own``: the server on the product's ``ServerLoop`` (``adapters.grpc.server_loop``), the
  work on the main loop (``ssbtek serve`` now).

For each, an open loop of refusals at each rate for ``STEP_S`` seconds from grpc's own
client in this process (16 connections, a 10 s deadline), the server pinned to its core:
the refusals' latency from the intended send, any other outcome, and the share of the
server's core the work still got (the slices it completed over the wall time).
``python -m bench.scenarios.accept_path`` prints one run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Final, cast

import attrs
import grpc

from bench import procs
from bench.config import ROOT, Context
from bench.scenarios.failure import Failure, attempt
from bench.stats import Latency

log = logging.getLogger("bench")
ARRANGEMENTS: Final = ("shared", "own")
RATES: Final = (200.0, 400.0, 800.0)
STEP_S: Final = 3.0
SLICE_S: Final = 0.001
CHANNELS: Final = 16
METHOD: Final = "/bench.Refuse/Call"


@attrs.frozen
class AcceptStep:
    arrangement: str
    rate_qps: float
    sent: int
    refused: int
    other: dict[str, int]
    refusal: Latency
    work_share: float
    """Share of the server's core the application's work got during the step."""


# --- the server process ------------------------------------------------------------------


async def _refuse(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    context.set_code(grpc.StatusCode.RESOURCE_EXHAUSTED)
    return b""


async def _start_server(port: int) -> grpc.aio.Server:
    server = grpc.aio.server(
        options=[
            ("grpc.server.max_pending_requests", 20_000),
            ("grpc.server.max_pending_requests_hard_limit", 20_000),
        ]
    )
    handler: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(_refuse)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("bench.Refuse", {"Call": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server


async def _serve(arrangement: str, port: int) -> None:
    """Serve, keep the loop busy, and on SIGTERM print the work done (JSON)."""
    from infrastructure.composition import build_server_loop

    done = {"work_s": 0.0}
    began = time.monotonic()
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    own = build_server_loop() if arrangement == "own" else None
    # kept: a grpc.aio server that is collected stops serving
    server = await (own.run(_start_server(port)) if own is not None else _start_server(port))

    async def work() -> None:
        while True:
            end = time.perf_counter() + SLICE_S
            while time.perf_counter() < end:
                pass
            done["work_s"] += SLICE_S
            await asyncio.sleep(0)

    busy = asyncio.ensure_future(work())
    sys.stdout.write(f"serving on 127.0.0.1:{port}\n")
    sys.stdout.flush()
    await stopping.wait()
    busy.cancel()
    del server
    sys.stdout.write(json.dumps({**done, "elapsed_s": time.monotonic() - began}) + "\n")
    sys.stdout.flush()


# --- the measuring side --------------------------------------------------------------------


async def _open_loop(port: int, rate: float) -> tuple[int, list[float], Counter[str]]:
    channels = [
        grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
        )
        for _ in range(CHANNELS)
    ]
    calls = [
        cast("grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]", channel.unary_unary(METHOD))
        for channel in channels
    ]
    latencies: list[float] = []
    codes: Counter[str] = Counter()

    async def one(index: int, intended: float) -> None:
        try:
            await calls[index % CHANNELS](b"", timeout=10)
            code = "OK"
        except grpc.aio.AioRpcError as error:
            code = error.code().name
        codes[code] += 1
        if code == "RESOURCE_EXHAUSTED":
            latencies.append((time.perf_counter() - intended) * 1000)

    try:
        count = int(rate * STEP_S)
        start = time.perf_counter()
        tasks = []
        for index in range(count):
            intended = start + index / rate
            delay = intended - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(one(index, intended)))
        await asyncio.gather(*tasks)
        return count, latencies, codes
    finally:
        for channel in channels:
            await channel.close()


def _step(ctx: Context, arrangement: str, rate: float) -> AcceptStep:
    port = procs.free_port()
    log_path = Path(tempfile.mkstemp(prefix=f"accept-{arrangement}-", dir=ctx.workdir)[1])
    process = procs.spawn(
        [procs.PYTHON, "-m", "bench.scenarios.accept_path", "--serve", arrangement, str(port)],
        cpus=procs.server_cpus(1),
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        log_path=log_path,
        cwd=ROOT,
    )
    try:
        procs.wait_until_serving(process, log_path)
        time.sleep(0.5)
        sent, latencies, codes = asyncio.run(_open_loop(port, rate))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    last = log_path.read_text().strip().splitlines()[-1]
    work = json.loads(last)
    other = {code: n for code, n in codes.items() if code != "RESOURCE_EXHAUSTED"}
    return AcceptStep(
        arrangement=arrangement,
        rate_qps=rate,
        sent=sent,
        refused=codes["RESOURCE_EXHAUSTED"],
        other=other,
        refusal=Latency.of(latencies),
        work_share=round(work["work_s"] / max(work["elapsed_s"], 1e-9), 3),
    )


def run(ctx: Context) -> list[AcceptStep | Failure]:
    found: list[AcceptStep | Failure] = []
    for rate in RATES:
        for arrangement in ARRANGEMENTS:  # alternating: a slow minute hurts both alike
            found.append(
                attempt(f"accept {arrangement} {rate:g}", partial(_step, ctx, arrangement, rate))
            )
    return found


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        asyncio.run(_serve(sys.argv[2], int(sys.argv[3])))
        return
    from bench import pg
    from bench.config import QUICK

    logging.basicConfig(level=logging.INFO)
    with tempfile.TemporaryDirectory(prefix="accept-") as workdir:
        ctx = Context(QUICK, Path(workdir), pg.PgServer())
        for step in run(ctx):
            sys.stdout.write(json.dumps(attrs.asdict(step)) + "\n")


if __name__ == "__main__":
    main()
