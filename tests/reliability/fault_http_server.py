"""A fault-injecting HTTP server for the base services (test-only, on 127.0.0.1).

Each provider's path answers by its mode: ``normal`` (the simulated provider's answer as
JSON), ``drip`` (headers, then one byte every 0.1 s), ``reset`` (the connection is reset
after the request is read), ``huge`` (a 3 MB answer), ``error`` (HTTP 500 with the
provider's felkod), ``proxy-503`` (HTTP 503 with a proxy's HTML page), ``malformed`` (HTTP
200 with JSON cut short), ``hang`` (reads the request, never answers; the test call too). A
refused connection needs no server: point the adapter at a closed port. ``requests`` counts
the calls that reached each provider, ``open_connections`` the connections open now.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import struct
from typing import Any

from adapters.providers.simulated.catalogue import simulated_payload
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.values import Period


class FaultServer:
    def __init__(self, modes: dict[Provider, str]) -> None:
        self.modes = modes
        self._server: asyncio.Server | None = None
        self.connections = 0
        self.requests: dict[Provider, int] = dict.fromkeys(Provider, 0)
        self.open_connections = 0

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_connections += 1
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        line = await reader.readline()
        if not line:
            return False
        _method, path, _ = line.decode().split(" ", 2)
        length = 0
        while (header := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = await reader.readexactly(length) if length else b""
        if path == "/stats":
            await self._send(writer, 200, {p.name: n for p, n in self.requests.items()})
            return True
        provider = Provider[path.strip("/").split("/")[0].upper()]
        mode = self.modes.get(provider, "normal")
        if mode == "hang":
            await reader.read()  # until the client gives up and closes the connection
            return False
        if path.endswith("/test"):
            await self._send(writer, 200, {"tillstand": "OK"})
            return True
        self.requests[provider] += 1
        if mode == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if mode == "drip":
            writer.write(_head(200, 1_000_000))
            for _ in range(300):  # at most 30 s, one byte at a time
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.1)
            return False
        if mode == "huge":
            writer.write(_head(200, len(_HUGE)) + _HUGE)
            await writer.drain()
            return True
        if mode == "proxy-503":
            writer.write(_head(503, len(_PROXY_PAGE), "text/html") + _PROXY_PAGE)
            await writer.drain()
            return True
        if mode == "malformed":
            writer.write(_head(200, 14) + b'{"utlamnare": ')
            await writer.drain()
            return True
        if mode == "error":
            await self._send(writer, 500, {"felkod": "9071001", "felmeddelande": "Tekniskt fel"})
            return True
        request = json.loads(body)
        subject = PersonalIdentityNumber.parse(request["personnummer"])
        period = Period.of(
            dt.date.fromisoformat(request["from"]), dt.date.fromisoformat(request["tom"])
        )
        await self._send(writer, 200, simulated_payload(provider, subject, period))
        return True

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        writer.write(_head(status, len(body)) + body)
        await writer.drain()


_HUGE = b"[" + b"0," * 1_500_000 + b"0]"  # 3 MB, three times the adapter's limit
_PROXY_PAGE = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center>"
    b"</body></html>" + b" " * 100_000  # padded past the adapter's read of an error body
)
_REASONS = {200: "OK", 500: "Internal Server Error", 503: "Service Temporarily Unavailable"}


def _head(status: int, length: int, content_type: str = "application/json") -> bytes:
    return (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


async def _serve_forever(modes: dict[Provider, str]) -> None:
    server = FaultServer(modes)
    print(await server.start(), flush=True)  # the parent reads the address from stdout
    await asyncio.Event().wait()


def main(argv: list[str]) -> None:
    """``python -m tests.reliability.fault_http_server ARBETSFORMEDLINGEN=hang ...``: the
    server in a process of its own, so its work does not share the service's event loop.
    ``GET /stats`` answers the ``requests`` counts."""
    modes = {Provider[name]: mode for name, _, mode in (arg.partition("=") for arg in argv)}
    asyncio.run(_serve_forever(modes))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
