"""``python -m bench.loadgen SPEC_JSON``: the load generator, a process of its own.

A ``grpc.aio`` client sends the benchmark request as raw bytes (already serialised,
responses are not parsed) so the client spends as little CPU per call as it can. With
probe ``soap`` an ``aiohttp`` client POSTs the same query as a v10 SOAP envelope to the
facade's URL instead (pre-built bytes as well; answers read, not parsed).

- Closed loop: ``concurrency`` callers, each sending its next request when the last
  answer arrives; the most the server can take (maximum throughput).
- Open loop: requests leave at fixed intended times (``segments``), whether or not
  earlier answers have arrived, and each latency is measured from the INTENDED send
  time, so a slow server cannot hide queueing by slowing the client down (coordinated
  omission). Every call has a deadline; ``max_in_flight`` bounds memory.

Before measuring it sends one probe request and checks the answer (``answer``: one
subject answer with eight provider parts; ``echo``: the request came back), then an
optional closed-loop warm-up. The server processes' CPU time is read at the start and
end of the measured window. The result is JSON on standard output (``bench.model``).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import attrs
import grpc
from lxml import etree

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from bench import model, pg, procs
from bench.model import LoadOutcome, LoadSpec
from bench.workload import SUBMIT_QUERY_METHOD, request_bytes, soap_envelopes

_PROVIDERS = 8
_SSBT = "{http://schema.forsakringskassan.se/integration/ssbt/10}"
_V10_BLOCKS = 7


class SoapFault(Exception):
    """A SOAP fault (its ``felkod``) or an HTTP failure of the v10 endpoint."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SoapCall:
    """One POST of a pre-built envelope, the same shape as a gRPC unary call here."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self._session = session
        self._url = url

    async def __call__(
        self,
        payload: bytes,
        *,
        timeout: float,  # noqa: ASYNC109 (the shape of a grpc.aio unary call)
        wait_for_ready: bool = False,
    ) -> bytes:
        async with self._session.post(
            self._url,
            data=payload,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.read()
        if response.status != 200:
            code = etree.fromstring(body).findtext(f".//{_SSBT}felkod") if body else None
            raise SoapFault(code or f"HTTP_{response.status}")
        return body


Call = grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] | SoapCall


@attrs.define
class Recorder:
    latencies_ms: list[float] = attrs.field(factory=list)
    offsets_s: list[float] = attrs.field(factory=list)
    subject_counts: list[int] = attrs.field(factory=list)
    codes: list[str] = attrs.field(factory=list)
    max_send_lag_ms: float = 0.0
    sent: int = 0
    last_done: float = 0.0

    def record(
        self, offset_s: float, latency_s: float, subjects: int, code: str, done: float
    ) -> None:
        self.offsets_s.append(round(offset_s, 6))
        self.latencies_ms.append(round(latency_s * 1000, 3))
        self.subject_counts.append(subjects)
        self.codes.append(code)
        self.last_done = max(self.last_done, done)


def _channels(spec: LoadSpec) -> list[grpc.aio.Channel]:
    options = [("grpc.use_local_subchannel_pool", 1)]
    return [grpc.aio.insecure_channel(spec.target, options=options) for _ in range(spec.channels)]


def _call(channel: grpc.aio.Channel) -> Call:
    call: Call = channel.unary_unary(SUBMIT_QUERY_METHOD)
    return call


async def _one(call: Call, payload: bytes, timeout_s: float) -> str:
    try:
        await call(payload, timeout=timeout_s)
    except grpc.aio.AioRpcError as error:
        return str(error.code().name)
    except SoapFault as fault:
        return f"SOAP_{fault.code}"
    except TimeoutError:
        return "DEADLINE_EXCEEDED"
    except aiohttp.ClientError:
        return "UNAVAILABLE"
    return "OK"


async def probe(call: Call, spec: LoadSpec, payload: bytes) -> dict[str, int]:
    """One request, answer checked; the counts of what it held."""
    raw = await call(payload, timeout=max(spec.timeout_s, 30.0), wait_for_ready=True)
    if spec.probe == "soap":
        return _soap_probe(raw)
    if spec.probe == "echo":
        echoed = pb.SubmitQueryRequest.FromString(raw)
        if echoed.SerializeToString() != payload:
            raise RuntimeError("the echo server did not echo the request")
        return {"bytes": len(raw)}
    answer = pb.SubmitQueryResponse.FromString(raw).answer
    parts = [part for subject in answer.subjects for part in subject.parts]
    if len(answer.subjects) != 1 or len(parts) != _PROVIDERS:
        raise RuntimeError(
            f"unexpected answer: {len(answer.subjects)} subjects, {len(parts)} parts"
        )
    summary = answer.summary
    return {
        "bytes": len(raw),
        "parts": len(parts),
        "answered": summary.answered,
        "no_data": summary.no_data,
        "errors": summary.errors,
        "closed": summary.closed,
    }


def _soap_probe(raw: bytes) -> dict[str, int]:
    blocks = next(etree.fromstring(raw).iter(f"{_SSBT}svarsdata"))
    if len(blocks) != _V10_BLOCKS:
        raise RuntimeError(f"unexpected SOAP answer: {len(blocks)} blocks")
    errors = [block.findtext(f"{_SSBT}error/{_SSBT}felkod") for block in blocks]
    failed = [code for code in errors if code is not None]
    return {
        "bytes": len(raw),
        "parts": len(blocks),
        "answered": len(blocks) - len(failed),
        "errors": len([code for code in failed if code != "CLOSED"]),
        "closed": failed.count("CLOSED"),
    }


Payloads = Sequence[dict[int, bytes]]
"""Per asking organisation (taken in turn), the request bytes for each subject count."""


async def closed_loop(
    calls: Sequence[Call],
    payloads: Payloads,
    spec: LoadSpec,
    *,
    duration_s: float,
    concurrency: int,
    recorder: Recorder,
) -> None:
    loop = asyncio.get_running_loop()
    rng = random.Random(spec.seed)  # noqa: S311 (a workload, not a secret)
    start = loop.time()
    deadline = start + duration_s

    async def caller() -> None:
        while loop.time() < deadline and recorder.sent < spec.max_requests:
            subjects = rng.randint(spec.subjects_min, spec.subjects_max)
            turn = recorder.sent
            recorder.sent += 1
            sent_at = loop.time()
            payload = payloads[turn % len(payloads)][subjects]
            code = await _one(calls[turn % len(calls)], payload, spec.timeout_s)
            done = loop.time()
            recorder.record(sent_at - start, done - sent_at, subjects, code, done)

    await asyncio.gather(*(caller() for _ in range(concurrency)))


def schedule(spec: LoadSpec) -> list[float]:
    """Intended send offsets (seconds), sorted: evenly spaced arrivals per segment."""
    offsets: list[float] = []
    for segment in spec.segments:
        count = int((segment.end_s - segment.start_s) * segment.rate_qps)
        offsets.extend(segment.start_s + i / segment.rate_qps for i in range(count))
    return sorted(offsets)[: spec.max_requests]


async def open_loop(
    calls: Sequence[Call], payloads: Payloads, spec: LoadSpec, recorder: Recorder
) -> None:
    loop = asyncio.get_running_loop()
    rng = random.Random(spec.seed)  # noqa: S311 (a workload, not a secret)
    slots = asyncio.Semaphore(spec.max_in_flight)
    start = loop.time() + 0.01
    tasks: set[asyncio.Task[None]] = set()

    async def send(offset: float, subjects: int, turn: int) -> None:
        try:
            payload = payloads[turn % len(payloads)][subjects]
            code = await _one(calls[turn % len(calls)], payload, spec.timeout_s)
            done = loop.time()
            recorder.record(offset, done - (start + offset), subjects, code, done)
        finally:
            slots.release()

    for turn, offset in enumerate(schedule(spec)):
        subjects = rng.randint(spec.subjects_min, spec.subjects_max)
        delay = start + offset - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await slots.acquire()
        lag_ms = (loop.time() - (start + offset)) * 1000
        recorder.max_send_lag_ms = max(recorder.max_send_lag_ms, lag_ms)
        recorder.sent += 1
        task = asyncio.create_task(send(offset, subjects, turn))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    recorder.last_done = max(recorder.last_done, start)


def _pg_cpu(spec: LoadSpec) -> dict[int, float] | None:
    if not spec.pg_dbname:
        return None
    return pg.backend_cpu(spec.pg_admin_conninfo, spec.pg_dbname)


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


async def run(spec: LoadSpec) -> LoadOutcome:
    soap = spec.probe == "soap"
    if soap:
        payloads: Payloads = [soap_envelopes()]
    else:
        payloads = [request_bytes(o) for o in spec.organisations] or [request_bytes()]
    channels = [] if soap else _channels(spec)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) if soap else None
    calls: list[Call] = [_call(channel) for channel in channels]
    if session is not None:
        calls = [SoapCall(session, spec.target)]
    try:
        await asyncio.wait_for(
            asyncio.gather(*(channel.channel_ready() for channel in channels)), timeout=30.0
        )
        checked = await probe(calls[0], spec, payloads[0][1])
        if spec.warmup_s > 0:
            await closed_loop(
                calls,
                payloads,
                spec,
                duration_s=spec.warmup_s,
                concurrency=spec.warmup_concurrency,
                recorder=Recorder(),
            )
        loop = asyncio.get_running_loop()
        recorder = Recorder()
        pg_before = _pg_cpu(spec)
        machine_before = procs.machine_busy_seconds()
        server_before = procs.total_cpu_seconds(spec.server_pids)
        client_before = _own_cpu_s()
        started = loop.time()
        if spec.mode == "closed":
            await closed_loop(
                calls,
                payloads,
                spec,
                duration_s=spec.duration_s,
                concurrency=spec.concurrency,
                recorder=recorder,
            )
        else:
            await open_loop(calls, payloads, spec, recorder)
        server_after = procs.total_cpu_seconds(spec.server_pids)
        machine_after = procs.machine_busy_seconds()
        client_after = _own_cpu_s()
        pg_after = _pg_cpu(spec)
        return LoadOutcome(
            window_s=max(recorder.last_done - started, 1e-9),
            sent=recorder.sent,
            latencies_ms=recorder.latencies_ms,
            offsets_s=recorder.offsets_s,
            subject_counts=recorder.subject_counts,
            codes=recorder.codes,
            max_send_lag_ms=round(recorder.max_send_lag_ms, 3),
            server_cpu_s=server_after - server_before,
            client_cpu_s=client_after - client_before,
            pg_cpu_s=pg.cpu_between(pg_before, pg_after)
            if pg_before is not None and pg_after is not None
            else None,
            machine_cpu_s=machine_after - machine_before,
            probe=checked,
        )
    finally:
        for channel in channels:
            await channel.close()
        if session is not None:
            await session.close()


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m bench.loadgen SPEC_JSON\n")
        return 2
    spec = model.loads(argv[0], LoadSpec)
    began = time.monotonic()
    outcome: Any = asyncio.run(run(spec))
    sys.stdout.write(model.dumps(outcome))
    sys.stderr.write(f"loadgen done in {time.monotonic() - began:.1f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
