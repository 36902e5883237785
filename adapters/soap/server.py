"""The v10 SOAP endpoint on aiohttp, in the same event loop as the gRPC server (ADR 19).

``POST /ssbtek`` answers both operations; ``GET /ssbtek?wsdl`` publishes the WSDL with
this service's address, and the schemas it includes are served beside it. ``GET
/health`` says whether the endpoint serves. Thin, like the gRPC servicer: parse and
validate, translate, make one application call, translate back; any error becomes a
fault (``faults.py``). Each call is logged on ``ssbtek.access`` and counted by outcome.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Final
from xml.sax.saxutils import quoteattr

import attrs
from aiohttp import web
from lxml import etree

from adapters.loops import Runs, here
from adapters.security.caller_identity import Caller, CallerIdentity, CallerRefused
from adapters.soap import answer, contract, faults, provider_blocks
from adapters.soap.contract import ContractViolation
from adapters.soap.request import V10Query, v10_query
from application.admission import Admission
from application.errors import AuditUnavailableError
from application.queries import Queries
from domain.identity import OrganisationNumber
from domain.query.answer import CompiledAnswer
from domain.query.values import EntryPoint

log = logging.getLogger(__name__)
access_log = logging.getLogger("ssbtek.access")

PATH: Final = "/ssbtek"
CONTENT_TYPE: Final = "text/xml"
ENTRY_POINT: Final = "SOAP_V10"
RequestCounter = Callable[[str, str, float], None]
"""(operation, outcome, seconds): outcome ``OK`` or the fault's ``felkod``."""


def _no_count(operation: str, outcome: str, seconds: float) -> None:
    return None


@attrs.frozen
class SoapServer:
    runner: web.AppRunner
    port: int
    url: str

    async def stop(self) -> None:
        await self.runner.cleanup()


OPEN_PATHS: Final = frozenset({"/health"})
"""Paths any certificate the handshake accepted may reach, like gRPC's health service."""


class SoapEndpoint:
    def __init__(
        self,
        queries: Queries,
        count: RequestCounter = _no_count,
        identity: CallerIdentity | None = None,
        admission: Admission | None = None,
        application: Runs = here,
    ) -> None:
        provider_blocks.check_complete()  # fail closed at start, never after Delivered
        self._queries = queries
        self._application = application
        """Where the queries' coroutines run: here, or the application's loop when the
        endpoint runs on the servers' own loop (ADR 26, amended)."""
        self._count = count
        self._admission = admission
        self._files = contract.contract_files()
        self._identity = identity or CallerIdentity()

    def application(self) -> web.Application:
        app = web.Application(
            client_max_size=contract.MAX_REQUEST_BYTES, middlewares=[self.prove_caller]
        )
        app.router.add_post(PATH, self.post)
        app.router.add_get(PATH, self.wsdl)
        app.router.add_get("/health", self.health)
        app.router.add_get("/{name}", self.schema)
        return app

    @web.middleware
    async def prove_caller(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """The caller its certificate proves, before any handler runs (ADR 24): a certificate
        that proves no organisation, or a revoked one, is refused on every path but health."""
        certificate = _certificate(request)
        if certificate is None or request.path in OPEN_PATHS:
            return await handler(request)
        try:
            caller = self._identity.caller(certificate)
        except CallerRefused as refusal:
            return self._refuse(request, refusal)
        request[_CALLER_KEY] = caller
        return await handler(request)

    def _refuse(self, request: web.Request, refusal: CallerRefused) -> web.Response:
        log.warning(
            "soap %s refused UNAUTHENTICATED %s: certificate %s, serial %s",
            request.path,
            refusal.reason,
            refusal.subject,
            refusal.serial,
            extra={
                "method": f"soap:{request.path}",
                "code": "UNAUTHENTICATED",
                "reason": refusal.reason,
                "certificate_subject": refusal.subject,
                "certificate_serial": refusal.serial,
            },
        )
        if request.method != "POST":
            return web.Response(status=403, text=f"unauthenticated: {refusal.reason}\n")
        fault = faults.Fault(True, refusal.reason, (faults.unauthenticated(refusal.reason),))
        envelope = faults.fault_envelope(fault, contract.OPERATIONS[0])
        return self._reply(contract.OPERATIONS[0], fault.code, envelope, time.monotonic(), 500)

    async def wsdl(self, request: web.Request) -> web.Response:
        if "wsdl" not in {key.lower() for key in request.query}:
            raise web.HTTPNotFound(text="the WSDL is at ?wsdl; queries are POSTed here")
        address = quoteattr(str(request.url.origin()) + PATH)[1:-1]
        return web.Response(body=contract.wsdl(address), content_type=CONTENT_TYPE)

    async def schema(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._files or not name.endswith(".xsd"):  # the WSDL is at ?wsdl
            raise web.HTTPNotFound()
        return web.Response(body=self._files[name], content_type=CONTENT_TYPE)

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(text="SERVING\n")

    async def post(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        operation = contract.OPERATIONS[0]
        query: V10Query | None = None
        try:
            body = await _read(request)
            parsed = contract.parse_request(body)
            operation = parsed.operation
            if operation == "testaBastjanstInformation":
                statuses = await self._application(self._queries.check_providers())
                reply = answer.test_response(statuses)
            else:
                authenticated = _organisation(request)
                query = v10_query(parsed, authenticated_organisation=authenticated)
                compiled = await self._admitted(query, authenticated)
                reply = answer.query_response(compiled, query)
            return self._reply(operation, "OK", reply, started, status=200)
        except Exception as raised:
            error = await self._record_refusal(raised, request)
            if isinstance(error, ContractViolation) and error.operation != operation:
                operation = error.operation
            fault = faults.fault_for(error, query)
            if fault.code == "INTERNAL":
                log.error("unhandled %s in the SOAP endpoint", type(error).__name__)
            headers = {"Retry-After": str(fault.retry_after_s)} if fault.retry_after_s else {}
            envelope = faults.fault_envelope(fault, operation)
            return self._reply(operation, fault.code, envelope, started, 500, headers)

    async def _record_refusal(self, error: Exception, request: web.Request) -> Exception:
        """A query the schema or the envelope refused, recorded as the saga records an invalid
        request over gRPC (``Rejected``, ``INVALID_ARGUMENT``, the element paths only) against
        the caller the certificate proved (ADR 19, ADR 24). A body that held no query at all
        (not XML, a DTD, no SOAP envelope, another operation) never became one: it is not
        recorded, like a gRPC message that does not decode. The error to answer with: this
        one, or the trail's unavailability if the refusal could not be recorded."""
        if not isinstance(error, ContractViolation) or error.organisation is None:
            return error
        try:
            await self._application(
                self._queries.record_invalid(
                    error.organisation,
                    error.fields,
                    EntryPoint.SOAP_V10,
                    caller=_organisation(request),
                )
            )
        except AuditUnavailableError as unavailable:
            return unavailable
        return error

    async def _admitted(self, query: V10Query, authenticated: str | None) -> CompiledAnswer:
        """The query, once admission control (ADR 26, shared with gRPC) has let it in: its
        refusal (``OverloadedError``) becomes a server fault with Retry-After."""
        if self._admission is None:
            return await self._application(self._queries.submit(query.command))
        self._admission.watch()
        organisation = query.command.organisation_number if authenticated is None else authenticated
        permit = self._admission.admit(_digits(organisation), ENTRY_POINT)
        try:
            return await self._application(self._queries.submit(query.command))
        finally:
            permit.release()

    def _reply(
        self,
        operation: str,
        outcome: str,
        envelope: etree._Element,
        started: float,
        status: int,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        elapsed = time.monotonic() - started
        self._count(operation, outcome, elapsed)
        elapsed_ms = round(elapsed * 1000)
        method = f"soap:{operation}"
        access_log.info(
            "%s %s %d ms",
            method,
            outcome,
            elapsed_ms,
            extra={"method": method, "code": outcome, "duration_ms": elapsed_ms},
        )
        return web.Response(
            body=etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"),
            status=status,
            content_type=CONTENT_TYPE,
            charset="utf-8",
            headers=headers,
        )


def _digits(organisation: str) -> str:
    try:
        return OrganisationNumber.parse(organisation[:40]).digits
    except ValueError:
        return ""


async def _read(request: web.Request) -> bytes:
    too_large = ContractViolation(
        "REQUEST_TOO_LARGE",
        [f"the request body must be at most {contract.MAX_REQUEST_BYTES} bytes"],
    )
    if (request.content_length or 0) > contract.MAX_REQUEST_BYTES:
        raise too_large
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None


_CALLER_KEY: Final = web.RequestKey("ssbtek.caller", Caller)


def _certificate(request: web.Request) -> bytes | None:
    """The client certificate (PEM); ``None`` without TLS (development)."""
    ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
    if not isinstance(ssl_object, ssl.SSLObject):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return ssl.DER_cert_to_PEM_cert(der).encode() if der else None


def _organisation(request: web.Request) -> str | None:
    """The organisation the caller's certificate proved (``prove_caller``); ``None`` without
    TLS (development)."""
    caller: Caller | None = request.get(_CALLER_KEY)
    if caller is not None:
        return caller.organisation
    return None if _certificate(request) is None else ""


def tls_context(certificate: bytes, private_key: bytes, client_ca: bytes) -> ssl.SSLContext:
    """Mutual TLS: a client certificate from ``client_ca`` is required."""
    import tempfile
    from pathlib import Path

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=client_ca.decode())
    with tempfile.TemporaryDirectory() as folder:  # ssl loads a key pair from files only
        cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_file.write_bytes(certificate)
        key_file.touch(mode=0o600)
        key_file.write_bytes(private_key)
        context.load_cert_chain(cert_file, key_file)
    return context


async def start_soap_server(
    queries: Queries,
    *,
    address: str,
    tls: ssl.SSLContext | None = None,
    reuse_port: bool = False,
    count: RequestCounter | None = None,
    identity: CallerIdentity | None = None,
    admission: Admission | None = None,
    application: Runs = here,
) -> SoapServer:
    """Build and start the endpoint on ``host:port`` (port 0: any free one); ``application``
    runs the queries' coroutines (on another loop, when this one is the servers' own)."""
    host, _, port = address.rpartition(":")
    runner = web.AppRunner(
        SoapEndpoint(queries, count or _no_count, identity, admission, application).application(),
        access_log=None,
        handle_signals=False,
    )
    await runner.setup()
    site = web.TCPSite(
        runner, host or "127.0.0.1", int(port), ssl_context=tls, reuse_port=reuse_port or None
    )
    await site.start()
    bound = int(runner.addresses[0][1])
    scheme = "https" if tls else "http"
    return SoapServer(runner, bound, f"{scheme}://{host or '127.0.0.1'}:{bound}{PATH}")
