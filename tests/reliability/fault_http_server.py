"""A fault-injecting HTTP server for the base services (test-only, on 127.0.0.1).

Each provider's path answers by its mode: ``normal`` (the simulated provider's answer as
JSON), ``drip`` (headers, then one byte every 0.1 s), ``reset`` (the connection is reset
after the request is read), ``huge`` (a 3 MB answer), ``error`` (HTTP 500 with
the provider's felkod), ``malformed`` (HTTP 200 with JSON cut short). ``open_connections``
counts the connections open now. A refused connection needs no server: point the adapter
at a closed port.
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
        provider = Provider[path.strip("/").split("/")[0].upper()]
        mode = self.modes.get(provider, "normal")
        if path.endswith("/test"):
            await self._send(writer, 200, {"tillstand": "OK"})
            return True
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


def _head(status: int, length: int) -> bytes:
    reason = "OK" if status == 200 else "Internal Server Error"
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
