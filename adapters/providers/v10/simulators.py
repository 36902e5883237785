"""SIMULATED base services on the wire: the eight simulated providers over their v10 contracts.

One asyncio server, one port, a path per provider (``/af``, ``/csn``, ``/lefi`` for FK and
PM, ``/miv``, ``/skv``, ``/so``, ``/tns``), speaking the same contracts as the ``v10``
adapters (``contracts``, ``lefi``): ``ssbtek simulate-providers`` runs it, and ``ssbtek serve
--providers v10 --provider-options url=http://127.0.0.1:8090`` talks to it. The answers are
the simulated providers' (``adapters.providers.simulated``), so a query answered over the
wire holds what the in-process simulated providers would have said.

Faults happen on the wire. Options (``key=value``) are the simulated providers' own
(``latency``, ``seed``, ``error_rate``, ``hang_rate``, ``malformed_rate``,
``unreachable_rate``, also per provider), plus ``fault`` (or ``<PROVIDER>.fault``), one of
``WIRE_FAULTS``, for every call:

=================  ==========================================================================
``latency:<s>``    answer after ``s`` seconds
``hang``           read the question, never answer (until the caller goes away)
``reset``          reset the connection (TCP RST) after reading the question
``http500``        HTTP 500 with an HTML page: no SOAP fault, no Lefi Felsvar
``malformed``      HTTP 200 with a document cut short
``oversized``      HTTP 200, the answer padded with whitespace to 5 MB (still valid)
``soap_fault``     a SOAP ``Fault`` (``soap:Server``, no detail); Lefi: HTTP 500 ``LefiFelsvar``
``error``          the provider's own failure, as its contract reports it
=================  ==========================================================================

Drawn faults map the same way: ``hang_rate`` hangs, ``unreachable_rate`` resets,
``malformed_rate`` cuts short, ``error_rate`` is the provider's own failure. Nothing
personal is logged; the simulator keeps nothing between calls.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
import socket
import ssl
import struct
from collections.abc import Mapping
from importlib import resources
from typing import Final

from adapters.providers.simulated import rules
from adapters.providers.simulated.catalogue import simulated_failure_payload, simulated_payload
from adapters.providers.simulated.factory import build_simulated_base_services
from adapters.providers.simulated.profile import Fault, SimulationProfile
from adapters.providers.simulated.service import SimulatedBaseService
from adapters.providers.v10._xml import SOAP_ENV, body_of, envelope, fault_envelope
from adapters.providers.v10.contracts import CONTRACTS, SoapContract
from adapters.providers.v10.lefi import API
from application.ports import BaseServiceError
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.values import Period

log = logging.getLogger(__name__)

WIRE_FAULTS: Final = (
    "hang",
    "reset",
    "http500",
    "malformed",
    "oversized",
    "soap_fault",
    "error",
)
OVERSIZED_BYTES: Final = 5_000_000
_MAX_QUESTION: Final = 1_000_000
_DRAWN: Final = {
    Fault.HANG: "hang",
    Fault.UNREACHABLE: "reset",
    Fault.MALFORMED: "malformed",
    Fault.ERROR: "error",
}
_BY_PATH: Final = {contract.path: contract for contract in CONTRACTS.values()}
_LEFI_QUESTION: Final = f"/lefi{API}/"
_REASONS: Final = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}


def check_fault(text: str, option: str) -> str:
    """A wire fault's text, checked (``latency:<seconds>`` or one of ``WIRE_FAULTS``)."""
    if text in WIRE_FAULTS:
        return text
    form, _, seconds = text.partition(":")
    if form == "latency":
        try:
            if float(seconds) >= 0:
                return text
        except ValueError:
            pass
    raise ValueError(
        f"option {option!r} must be latency:<seconds> or one of {', '.join(WIRE_FAULTS)}"
    )


class _Request:
    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path, _, self.query = target.partition("?")
        self.headers = headers
        self.body = body


class ProviderSimulators:
    """The simulated providers behind their v10 contracts, on one port."""

    def __init__(
        self, options: Mapping[str, str] | None = None, *, tls: ssl.SSLContext | None = None
    ) -> None:
        options = dict(options or {})
        self.faults: dict[Provider, str] = {}
        shared_fault = options.pop("fault", None)
        for provider in Provider:
            own = options.pop(f"{provider.name}.fault", None)
            chosen = own if own is not None else shared_fault
            if chosen:
                option = f"{provider.name}.fault" if own is not None else "fault"
                self.faults[provider] = check_fault(chosen, option)
        services = build_simulated_base_services(options)
        self._profiles: dict[Provider, SimulationProfile] = {
            provider: service.profile
            for provider, service in services.items()
            if isinstance(service, SimulatedBaseService)
        }
        self._draws = {
            provider: rules.rng("wire-faults", profile.seed, provider.value)
            for provider, profile in self._profiles.items()
        }
        self._tls = tls
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self.open_connections = 0
        self.questions = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen; the base URL (``http://host:port``) to give the ``v10`` adapters."""
        self._server = await asyncio.start_server(self._connection, host, port, ssl=self._tls)
        bound = self._server.sockets[0].getsockname()
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{bound[0]}:{bound[1]}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    # --- HTTP/1.1, just enough: Content-Length bodies, keep-alive -----------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        self._writers.add(writer)
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
        try:
            while (request := await self._read(reader)) is not None:
                if not await self._answer(request, reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except ssl.SSLError:
            pass
        finally:
            self.open_connections -= 1
            self._writers.discard(writer)
            if handler is not None:
                self._handlers.discard(handler)
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> _Request | None:
        line = await reader.readline()
        if not line.strip():
            return None
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or "0")
        if length > _MAX_QUESTION:
            raise ConnectionError("question too large")
        body = await reader.readexactly(length) if length else b""
        return _Request(method, target, headers, body)

    async def _answer(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection must end."""
        provider, contract = self._route(request)
        if provider is None:
            return await _send(writer, 404, "text/plain", b"no such base service")
        fault = self._fault(provider, request)
        if fault.startswith("latency:"):
            await asyncio.sleep(float(fault.partition(":")[2]))
            fault = ""
        if fault == "hang":
            await reader.read()  # until the caller goes away
            return False
        if fault == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if request.method == "GET":
            return await self._describe(request, contract, writer)
        self.questions += 1
        if contract is None:
            return await self._lefi(provider, request, fault, writer)
        return await self._soap(contract, request, fault, writer)

    def _route(self, request: _Request) -> tuple[Provider | None, SoapContract | None]:
        if request.path in _BY_PATH:
            contract = _BY_PATH[request.path]
            return contract.provider, contract
        if request.path.startswith(_LEFI_QUESTION):
            if request.method == "GET":
                return Provider.FORSAKRINGSKASSAN, None
            try:
                question = json.loads(request.body)
                groups = [*question.get("utbetalningar", []), *question.get("ovrigInformation", [])]
            except (ValueError, AttributeError, TypeError):
                return Provider.FORSAKRINGSKASSAN, None
            pm = any(str(group).startswith("PM:") for group in groups)
            return (Provider.PENSIONSMYNDIGHETEN if pm else Provider.FORSAKRINGSKASSAN), None
        return None, None

    def _fault(self, provider: Provider, request: _Request) -> str:
        if provider in self.faults:
            return self.faults[provider]
        if request.method == "GET" or provider not in self._profiles:
            return ""
        profile, source = self._profiles[provider], self._draws[provider]
        drawn = _DRAWN.get(profile.draw_fault(source), "")
        delay = profile.latency.sample(source)
        if drawn:
            return drawn
        return f"latency:{delay}" if delay > 0 else ""

    async def _describe(
        self, request: _Request, contract: SoapContract | None, writer: asyncio.StreamWriter
    ) -> bool:
        if contract is None:
            codes = [{"kod": "FK:ALLA", "beskrivning": "Utbetalningar"}]
            body = json.dumps({"utlamnare": [], "formansinformation": codes}).encode()
            return await _send(writer, 200, "application/json", body)
        return await _send(writer, 200, "text/xml; charset=utf-8", wsdl(contract))

    async def _soap(
        self, contract: SoapContract, request: _Request, fault: str, writer: asyncio.StreamWriter
    ) -> bool:
        xml = "text/xml; charset=utf-8"
        if fault in ("http500", "malformed"):
            return await _spoilt(writer, fault, xml)
        if fault == "soap_fault":
            return await _send(writer, 500, xml, fault_envelope("Server", "Internt fel"))
        try:
            subject, period = contract.ask(body_of(contract.provider, request.body))
        except BaseServiceError:
            return await _send(writer, 500, xml, fault_envelope("Client", "Felaktig fråga"))
        if fault == "error":
            payload = simulated_failure_payload(contract.provider, random.Random())  # noqa: S311
            own = contract.render_failure(payload)
            if own is not None:
                return await _send(writer, 500, xml, fault_envelope("Server", *own))
        else:
            payload = simulated_payload(contract.provider, subject, period)
        return await _send(writer, 200, xml, envelope(contract.render(payload)), fault)

    async def _lefi(
        self, provider: Provider, request: _Request, fault: str, writer: asyncio.StreamWriter
    ) -> bool:
        kind = "application/json"
        if fault in ("http500", "malformed"):
            return await _spoilt(writer, fault, kind)
        if fault == "soap_fault":
            return await _send(writer, 500, kind, _felsvar("Internt fel"))
        try:
            question = json.loads(request.body)
            subject = PersonalIdentityNumber.parse(question["personnummer"])
            period = Period.of(
                dt.date.fromisoformat(question["period"]["from"]),
                dt.date.fromisoformat(question["period"]["tom"]),
            )
        except (ValueError, KeyError, TypeError):
            return await _send(writer, 400, kind, _felsvar("Felaktiga indata."))
        if fault == "error":
            payload = simulated_failure_payload(provider, random.Random())  # noqa: S311
        else:
            payload = simulated_payload(provider, subject, period)
        return await _send(writer, 200, kind, json.dumps(payload).encode(), fault)


def _felsvar(text: str) -> bytes:
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return json.dumps({"meddelande": text, "timestamp": stamp}).encode()


def _head(status: int, kind: str, length: int) -> bytes:
    return (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: {kind}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


async def _send(
    writer: asyncio.StreamWriter, status: int, kind: str, body: bytes, fault: str = ""
) -> bool:
    """Send one answer; ``oversized`` pads a valid answer with whitespace to 5 MB."""
    padding = max(OVERSIZED_BYTES - len(body), 0) if fault == "oversized" else 0
    writer.write(_head(status, kind, len(body) + padding) + body)
    await writer.drain()
    chunk = b" " * 65536
    while padding > 0:
        writer.write(chunk[:padding])
        padding -= len(chunk)
        await writer.drain()
    return True


async def _spoilt(writer: asyncio.StreamWriter, fault: str, kind: str) -> bool:
    if fault == "http500":
        page = b"<html><body>Internal Server Error</body></html>"
        return await _send(writer, 500, "text/html", page)
    cut = (
        f'<?xml version="1.0"?><soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><svar'
        if kind.startswith("text/xml")
        else '{"utlamnare": [{"utlamnare": '
    )
    return await _send(writer, 200, kind, cut.encode())


def wsdl(contract: SoapContract) -> bytes:
    """The provider's WSDL, as this project publishes it (``wsdl/<path>.wsdl``)."""
    name = f"{contract.path.strip('/')}.wsdl"
    return resources.files("adapters.providers.v10").joinpath("wsdl", name).read_bytes()
