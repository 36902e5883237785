"""The server's one interceptor chain, over a real socket with grpc's own client.

``build_server`` installs ``ReportedCalls`` outermost: whatever a handler raises, or an inner
interceptor refuses, becomes a status with ``ErrorInfo`` and exactly one ``ssbtek.access``
line naming the full method and the true code (``CANCELLED`` when the client left). The
methods here are a small generic service beside the real ones, so that a handler can fail on
purpose; the authorisation tests use the real interceptors over mutual TLS, and the audit
service as the composition root wires it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import wrappers_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from adapters.grpc.authorisation import AdministratorsOnly, AuditorsOnly
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as apb
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2_grpc as apb_grpc
from adapters.grpc.interceptors import Context, Handler, MethodInterceptor, before, wrap
from adapters.grpc.server import build_server
from adapters.grpc.tls import server_credentials
from application.errors import OverloadedError, PermissionDeniedError
from infrastructure.audit_settings import AuditSettings
from infrastructure.composition import build_grpc_server, build_queries, build_service
from infrastructure.settings import Settings, Store
from tests.canaries import personnummer
from tests.certificates import CertificateAuthority, Issued
from tests.conftest import TEST_KEY

SETTINGS = Settings(store=Store.MEMORY, pseudonym_key_hex="71" * 32, rate_limit="")
SERVICE = "test.Chain"
CLIENT_CA = CertificateAuthority("Chain client CA")
SERVER_CA = CertificateAuthority("Chain server CA")
SERVER = SERVER_CA.issue_server()
OPERATOR = "2021005521"
MUNICIPALITY = "2120000142"

Text = wrappers_pb2.StringValue
CANARY_PNR = personnummer(random.Random("interceptor chain"))


class Handlers:
    """The generic service's methods; ``ran`` counts the handlers that started."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.hanging = asyncio.Event()

    async def echo(self, request: Text, context: Context) -> Text:
        self.ran.append("Echo")
        return Text(value=request.value)

    async def fail(self, request: Text, context: Context) -> Text:
        self.ran.append("Fail")
        raise RuntimeError(f"lookup failed for {CANARY_PNR}")

    async def hang(self, request: Text, context: Context) -> Text:
        self.ran.append("Hang")
        self.hanging.set()
        await asyncio.sleep(60)
        return Text()

    async def count(self, request: Text, context: Context) -> AsyncIterator[Text]:
        self.ran.append("Count")
        for index in range(3):
            yield Text(value=str(index))
        if request.value == "fail":
            raise RuntimeError(f"stream broke for {CANARY_PNR}")

    async def join(self, requests: AsyncIterator[Text], context: Context) -> Text:
        self.ran.append("Join")
        return Text(value="".join([request.value async for request in requests]))

    def registration(self, server: grpc.aio.Server) -> str:
        def unary(behaviour: Any) -> grpc.RpcMethodHandler[Text, Text]:
            return grpc.unary_unary_rpc_method_handler(
                behaviour, Text.FromString, Text.SerializeToString
            )

        methods: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
            "Echo": unary(self.echo),
            "Fail": unary(self.fail),
            "Hang": unary(self.hang),
            "Unauthenticated": unary(self.echo),
            "Busy": unary(self.echo),
            "Count": grpc.unary_stream_rpc_method_handler(
                self.count, Text.FromString, Text.SerializeToString
            ),
            "Join": grpc.stream_unary_rpc_method_handler(
                self.join, Text.FromString, Text.SerializeToString
            ),
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, methods),))
        return SERVICE


class Refusing(MethodInterceptor):
    """Stands in for the identity and admission interceptors: it refuses two methods, one by
    ``abort`` and one by raising an application error, and a stream whose caller's metadata
    says ``revoked-after`` once that many answers were sent (as a revoked certificate)."""

    def __init__(self) -> None:
        self.sent: Counter[int] = Counter()

    def wrap_method(self, method: str, handler: Handler) -> Handler:
        if method == f"/{SERVICE}/Count":

            async def still_allowed(context: Context) -> None:
                metadata = dict(context.invocation_metadata() or ())
                allowed = int(metadata.get("revoked-after", 1000))
                if self.sent[id(context)] >= allowed:
                    raise PermissionDeniedError("CERTIFICATE_REVOKED")
                self.sent[id(context)] += 1

            return wrap(handler, each_response=still_allowed)
        if method == f"/{SERVICE}/Unauthenticated":

            async def unauthenticated(context: Context) -> None:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, "no identity")

            return wrap(handler, around=before(unauthenticated))
        if method == f"/{SERVICE}/Busy":

            async def busy(context: Context) -> None:
                raise OverloadedError("TOO_MANY_QUERIES_IN_FLIGHT")

            return wrap(handler, around=before(busy))
        return handler


Served = tuple[grpc.aio.Channel, Handlers]


@contextlib.asynccontextmanager
async def serve(
    interceptors: Sequence[grpc.aio.ServerInterceptor] | None = None,
    credentials: grpc.ServerCredentials | None = None,
    client: Issued | None = None,
) -> AsyncIterator[Served]:
    queries = build_queries(SETTINGS)
    handlers = Handlers()
    server, port = await build_server(
        queries,
        address="127.0.0.1:0",
        services=[handlers.registration],
        reflection_enabled=False,
        interceptors=[Refusing()] if interceptors is None else interceptors,
        credentials=credentials,
    )
    await server.start()
    try:
        if client is None:
            opened = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        else:
            opened = grpc.aio.secure_channel(
                f"localhost:{port}",
                grpc.ssl_channel_credentials(
                    root_certificates=SERVER_CA.certificate_pem,
                    private_key=client.private_key_pem,
                    certificate_chain=client.certificate_pem,
                ),
            )
        async with opened as channel:
            yield channel, handlers
    finally:
        await server.stop(grace=None)
        queries.close()


def method(channel: grpc.aio.Channel, name: str) -> Any:
    return channel.unary_unary(f"/{SERVICE}/{name}", Text.SerializeToString, Text.FromString)


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)
    assert status is not None, "the status carries details"
    infos = [d for d in status.details if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR)]
    assert len(infos) == 1
    info = error_details_pb2.ErrorInfo()
    infos[0].Unpack(info)
    return info


async def access_lines(caplog: pytest.LogCaptureFixture, count: int) -> list[tuple[str, str]]:
    """The access log's (method, code) pairs, once ``count`` are there (the server logs a
    moment after the client has its answer)."""
    for _ in range(100):
        lines = [r for r in caplog.records if r.name == "ssbtek.access"]
        if len(lines) >= count:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.05)  # and no second line follows
    return [
        (getattr(r, "method", ""), getattr(r, "code", ""))
        for r in caplog.records
        if r.name == "ssbtek.access"
    ]


@pytest.fixture(autouse=True)
def _access_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ssbtek.access")


async def test_an_answered_call_unary_or_client_streaming_is_one_line_with_its_method_and_ok(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve() as (channel, _):
        answer = await method(channel, "Echo")(Text(value="hi"), timeout=10)
        join = channel.stream_unary(f"/{SERVICE}/Join", Text.SerializeToString, Text.FromString)
        joined = await join(iter([Text(value="a"), Text(value="b")]), timeout=10)
        lines = await access_lines(caplog, 2)
    assert (answer.value, joined.value) == ("hi", "ab")
    assert lines == [(f"/{SERVICE}/Echo", "OK"), (f"/{SERVICE}/Join", "OK")]


async def test_an_unexpected_exception_is_internal_with_error_info_and_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve() as (channel, _):
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await method(channel, "Fail")(Text(), timeout=10)
        assert failed.value.code() is grpc.StatusCode.INTERNAL
        assert failed.value.details() == "the service failed to handle the request"
        assert error_info(failed.value).reason == "INTERNAL"
        assert await access_lines(caplog, 1) == [(f"/{SERVICE}/Fail", "INTERNAL")]
    assert "unhandled RuntimeError" in caplog.text
    assert CANARY_PNR not in caplog.text


@pytest.mark.parametrize(
    ("name", "code", "reason"),
    [
        ("Unauthenticated", grpc.StatusCode.UNAUTHENTICATED, None),
        ("Busy", grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY_QUERIES_IN_FLIGHT"),
    ],
)
async def test_a_refusal_by_an_inner_interceptor_is_one_line_with_its_code(
    caplog: pytest.LogCaptureFixture, name: str, code: grpc.StatusCode, reason: str | None
) -> None:
    async with serve() as (channel, handlers):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await method(channel, name)(Text(), timeout=10)
        assert refused.value.code() is code
        if reason is not None:  # raised as an application error: mapped with its ErrorInfo
            assert error_info(refused.value).reason == reason
        assert await access_lines(caplog, 1) == [(f"/{SERVICE}/{name}", code.name)]
        assert handlers.ran == []


async def test_a_streaming_method_is_one_line_whether_it_ends_or_breaks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve() as (channel, _):
        count = channel.unary_stream(f"/{SERVICE}/Count", Text.SerializeToString, Text.FromString)
        answered = [r.value async for r in count(Text(), timeout=10)]
        received: list[str] = []

        async def receive() -> None:
            async for response in count(Text(value="fail"), timeout=10):
                received.append(response.value)

        with pytest.raises(grpc.aio.AioRpcError) as broke:
            await receive()
        lines = await access_lines(caplog, 2)
    assert answered == received == ["0", "1", "2"]
    assert broke.value.code() is grpc.StatusCode.INTERNAL
    assert error_info(broke.value).reason == "INTERNAL"
    assert lines == [(f"/{SERVICE}/Count", "OK"), (f"/{SERVICE}/Count", "INTERNAL")]


async def test_a_stream_refused_between_answers_ends_with_the_refusal_and_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve() as (channel, _):
        count = channel.unary_stream(f"/{SERVICE}/Count", Text.SerializeToString, Text.FromString)
        call = count(Text(), timeout=10, metadata=(("revoked-after", "1"),))
        first = await call.read()
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call.read()
        lines = await access_lines(caplog, 1)
    assert isinstance(first, Text)
    assert first.value == "0"
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_info(refused.value).reason == "CERTIFICATE_REVOKED"
    assert lines == [(f"/{SERVICE}/Count", "PERMISSION_DENIED")]


async def test_a_call_the_client_cancels_is_one_line_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve() as (channel, handlers):
        call = method(channel, "Hang")(Text(), timeout=30)
        await asyncio.wait_for(handlers.hanging.wait(), timeout=10)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert await access_lines(caplog, 1) == [(f"/{SERVICE}/Hang", "CANCELLED")]


async def test_a_health_watch_the_client_leaves_is_cancelled_not_ok(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The health service's ``Watch`` writes with ``context.write``: the other kind of
    streaming handler the chain wraps."""
    async with serve() as (channel, _):
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=SERVICE), timeout=30
        )
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        watch.cancel()
        assert await access_lines(caplog, 1) == [("/grpc.health.v1.Health/Watch", "CANCELLED")]


ADMINISTRATORS = AdministratorsOnly(frozenset({SERVICE}), frozenset({OPERATOR}))
AUDITORS = AuditorsOnly(frozenset({SERVICE}), frozenset({OPERATOR}))
NO_AUDITORS = AuditorsOnly(frozenset({SERVICE}), frozenset())


@pytest.mark.parametrize(
    ("check", "client", "reason"),
    [
        (ADMINISTRATORS, MUNICIPALITY, "ADMINISTRATORS_ONLY"),
        (ADMINISTRATORS, OPERATOR, None),
        (AUDITORS, MUNICIPALITY, "NOT_AN_AUDITOR"),
        (AUDITORS, OPERATOR, None),
        (NO_AUDITORS, MUNICIPALITY, None),
    ],
    ids=["outsider-admin", "admin", "outsider-audit", "auditor", "no-auditors-configured"],
)
async def test_authorisation_refuses_outsiders_with_error_info_and_one_line(
    caplog: pytest.LogCaptureFixture,
    check: grpc.aio.ServerInterceptor,
    client: str,
    reason: str | None,
) -> None:
    credentials = server_credentials(
        SERVER.certificate_pem, SERVER.private_key_pem, CLIENT_CA.certificate_pem
    )
    issued = CLIENT_CA.issue_organisation(client)
    async with serve([check], credentials, issued) as (channel, handlers):
        if reason is None:
            await method(channel, "Echo")(Text(), timeout=10)
        else:
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await method(channel, "Echo")(Text(), timeout=10)
            assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED
            info = error_info(error.value)
            assert (info.reason, info.domain) == (reason, "ssbtek.se")
        code = "OK" if reason is None else "PERMISSION_DENIED"
        assert await access_lines(caplog, 1) == [(f"/{SERVICE}/Echo", code)]
        assert handlers.ran == (["Echo"] if reason is None else [])


async def test_the_served_audit_service_refuses_a_caller_without_an_auditors_certificate(
    tmp_path: Path,
) -> None:
    """As the composition root wires it: with auditors configured, a plaintext caller (no
    certificate, so no organisation) gets NOT_AN_AUDITOR on every audit method."""
    settings = Settings(
        store=Store.MEMORY,
        data_dir=tmp_path,
        pseudonym_key_hex=TEST_KEY,
        listen="127.0.0.1:0",
        audit=AuditSettings(auditors=frozenset({OPERATOR})),
    )
    service = build_service(settings)
    server, port = await build_grpc_server(service, settings)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = apb_grpc.AuditServiceStub(channel)
            calls: list[Awaitable[object]] = [
                stub.VerifyChain(apb.VerifyChainRequest(), timeout=10),
                stub.GetReport(apb.GetReportRequest(), timeout=10),
            ]
            errors: list[grpc.aio.AioRpcError] = []
            for call in calls:
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    await call
                errors.append(error.value)
            replay = stub.ReplayEvents(apb.ReplayEventsRequest(), timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await replay.read()
            errors.append(error.value)
    finally:
        await server.stop(grace=None)
        service.close()
    assert [e.code() for e in errors] == [grpc.StatusCode.PERMISSION_DENIED] * 3
    assert {error_info(e).reason for e in errors} == {"NOT_AN_AUDITOR"}
