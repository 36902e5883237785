"""The gRPC server on its own loop, the application on another (ADR 26, amended).

Over a real socket with grpc's own client. The servicers' methods run on the application's
loop, with the call's context (the proved caller); their answers, streams, errors and the
client's cancellation cross back and forth; and a refusal by admission control needs
nothing of the application's loop: it comes back while that loop is blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from adapters.grpc.admission import AdmissionInterceptor
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.interceptors import Context, Handler, MethodInterceptor, wrap
from adapters.grpc.server import build_server
from adapters.grpc.server_loop import OnApplicationLoop
from adapters.loops import ServerLoop
from adapters.providers.simulated import build_simulated_base_services
from application.admission import Admission, AdmissionSettings
from application.errors import InvalidRequestError
from domain.errors import FieldViolation
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock
from tests.integration.test_admission_over_grpc import organisations, request
from tests.unit.application.test_query_saga import WEDNESDAY_NOON

PROBE = "ssbtek.test.Probe"
MARK: contextvars.ContextVar[str] = contextvars.ContextVar("test_mark", default="none")


class Marker(MethodInterceptor):
    """Sets a context variable on the server's loop, as ``identity.CallerInterceptor``
    does with the proved caller."""

    def wrap_method(self, method: str, handler: Handler) -> Handler:
        @contextlib.asynccontextmanager
        async def marked(context: Context) -> AsyncIterator[None]:
            MARK.set("marked on the server's loop")
            yield

        return wrap(handler, around=marked)


class Probe:
    """A servicer of the service's own kind (``ssbtek.*``) that tells where it ran."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.cancelled = threading.Event()
        self.closed_on: list[str] = []

    async def where(self, request: bytes, context: Context) -> bytes:
        self.threads.append(threading.current_thread().name)
        return f"{threading.current_thread().name}|{MARK.get()}".encode()

    async def refuse(self, request: bytes, context: Context) -> bytes:
        raise InvalidRequestError([FieldViolation("subjects[0]", "is not a personnummer")])

    async def hang(self, request: bytes, context: Context) -> bytes:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return b""

    async def count(self, request: bytes, context: Context) -> AsyncIterator[bytes]:
        try:
            for n in range(1000):
                self.threads.append(threading.current_thread().name)
                yield str(n).encode()
                await asyncio.sleep(0.01)
        finally:
            self.closed_on.append(threading.current_thread().name)

    async def break_off(self, request: bytes, context: Context) -> AsyncIterator[bytes]:
        yield b"first"
        raise InvalidRequestError([FieldViolation("subjects[1]", "is not a personnummer")])

    def register(self, server: grpc.aio.Server) -> str:
        same = {"request_deserializer": None, "response_serializer": None}
        server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    PROBE,
                    {
                        "Where": grpc.unary_unary_rpc_method_handler(self.where, **same),
                        "Refuse": grpc.unary_unary_rpc_method_handler(self.refuse, **same),
                        "Hang": grpc.unary_unary_rpc_method_handler(self.hang, **same),
                        "Count": grpc.unary_stream_rpc_method_handler(self.count, **same),
                        "BreakOff": grpc.unary_stream_rpc_method_handler(self.break_off, **same),
                    },
                ),
            )
        )
        return PROBE


def unary(channel: grpc.aio.Channel, name: str) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
    return cast(
        "grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]", channel.unary_unary(f"/{PROBE}/{name}")
    )


def streaming(
    channel: grpc.aio.Channel, name: str
) -> grpc.aio.UnaryStreamMultiCallable[bytes, bytes]:
    return cast(
        "grpc.aio.UnaryStreamMultiCallable[bytes, bytes]", channel.unary_stream(f"/{PROBE}/{name}")
    )


@contextlib.contextmanager
def application_loop() -> Iterator[ServerLoop]:
    """An application loop on a thread of its own (so that a test can block it while its
    client goes on)."""
    application = ServerLoop("application")
    try:
        yield application
    finally:
        application.close()


@contextlib.asynccontextmanager
async def served(
    application: asyncio.AbstractEventLoop, admission: Admission | None = None
) -> AsyncIterator[tuple[grpc.aio.Channel, Probe, Any]]:
    queries = build_queries(
        Settings(store=Store.MEMORY),
        base_services=build_simulated_base_services({"latency": "none"}),
        clock=FakeClock(WEDNESDAY_NOON),
    )
    probe = Probe()
    server_loop = ServerLoop("grpc-server")
    try:
        inner = [AdmissionInterceptor(admission)] if admission is not None else []

        async def started() -> tuple[grpc.aio.Server, int]:
            server, port = await build_server(
                queries,
                address="127.0.0.1:0",
                services=[probe.register],
                interceptors=[*inner, Marker(), OnApplicationLoop(application)],
            )
            await server.start()
            return server, port

        server, port = await server_loop.run(started())
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        try:
            yield channel, probe, queries
        finally:
            await channel.close()
            await server_loop.run(server.stop(grace=None))
            queries.close()
    finally:
        server_loop.close()


async def test_a_method_runs_on_the_application_loop_with_the_calls_context() -> None:
    with application_loop() as application:
        async with served(application.loop) as (channel, _probe, _queries):
            answer = await unary(channel, "Where")(b"", timeout=10)
    thread, mark = answer.decode().split("|")
    assert thread == "application"
    assert mark == "marked on the server's loop"


async def test_an_application_error_comes_back_as_its_status_with_field_detail() -> None:
    with application_loop() as application:
        async with served(application.loop) as (channel, _probe, _queries):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await unary(channel, "Refuse")(b"", timeout=10)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(refused.value)
    assert status is not None
    fields = []
    for packed in status.details:
        if packed.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            packed.Unpack(bad)
            fields = [v.field for v in bad.field_violations]
    assert fields == ["subjects[0]"]


async def test_a_client_that_leaves_cancels_the_work_on_the_application_loop() -> None:
    with application_loop() as application:
        async with served(application.loop) as (channel, probe, _queries):
            with pytest.raises(grpc.aio.AioRpcError) as left:
                await unary(channel, "Hang")(b"", timeout=0.5)
            assert left.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            cancelled = await asyncio.to_thread(probe.cancelled.wait, 10)
    assert cancelled, "the application's task went on after its caller left"


async def test_a_stream_crosses_item_by_item_and_is_closed_on_its_loop() -> None:
    with application_loop() as application:
        async with served(application.loop) as (channel, probe, _queries):
            call = streaming(channel, "Count")(b"", timeout=10)
            got = [await call.read() for _ in range(3)]
            call.cancel()
            for _ in range(200):
                if probe.closed_on:
                    break
                await asyncio.sleep(0.05)
    assert got == [b"0", b"1", b"2"]
    assert set(probe.threads) == {"application"}
    assert probe.closed_on == ["application"], "the generator was not closed where it ran"
    assert len(probe.threads) < 50, "the stream ran ahead of its client"


async def test_a_refusal_needs_nothing_of_the_application_loop() -> None:
    """One slot; the application's loop blocked: the query holding the slot waits for it,
    the next one is refused RESOURCE_EXHAUSTED while the loop is still blocked."""
    admission = Admission(
        AdmissionSettings(ceiling=1, adaptive=False), monotonic=asyncio.get_running_loop().time
    )
    with application_loop() as application:
        async with served(application.loop, admission) as (channel, _probe, _queries):
            stub = pb_grpc.QueryServiceStub(channel)
            (organisation,) = organisations(1)
            unblock = threading.Event()
            application.loop.call_soon_threadsafe(unblock.wait, 30)
            holding = asyncio.ensure_future(stub.SubmitQuery(request(organisation), timeout=60))
            for _ in range(200):
                if admission.in_progress == 1:
                    break
                await asyncio.sleep(0.02)
            assert admission.in_progress == 1
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.SubmitQuery(request(organisation), timeout=20)
            still_blocked = not unblock.is_set()
            unblock.set()
            answered = await holding
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert still_blocked, "the refusal waited for the application's loop"
    assert answered.answer.query_id
    assert admission.in_progress == 0


async def test_an_error_in_the_middle_of_a_stream_ends_it_with_its_status() -> None:
    with application_loop() as application:
        async with served(application.loop) as (channel, _probe, _queries):
            call = streaming(channel, "BreakOff")(b"", timeout=10)
            first = await call.read()
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                await call.read()
    assert first == b"first"
    assert ended.value.code() == grpc.StatusCode.INVALID_ARGUMENT
