"""The network under every v10 adapter: one ``httpx.AsyncClient`` per provider.

Each provider's client keeps its own pool of connections (reused between calls), its own
time-out, its own cap on the answer's size and, when configured, its own client
certificate for mutual TLS. ``exchange`` turns the network's failures into the port's
errors, none of which names the request or the answer:

- no connection, a reset, a broken HTTP stream: ``BaseServiceUnreachableError`` (SSBT);
- no answer within the provider's time-out: ``TimeoutError`` (the saga's TIMEOUT, SSBT);
- an answer longer than the cap: ``MalformedAnswerError`` (SSBT), read no further.

The saga's own deadline cancels a call from outside: the stream is closed at once and
its connection is dropped, never handed back to the pool half read.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping

import attrs
import httpx

from application.ports import BaseServiceHealth, BaseServiceUnreachableError, MalformedAnswerError
from domain.providers import PROFILES, Provider


@attrs.frozen
class Tls:
    """Mutual TLS towards a provider: our certificate and key, and the CA we trust."""

    certificate: str | None = None
    private_key: str | None = None
    ca: str | None = None

    def context(self) -> ssl.SSLContext | bool:
        if self.certificate is None and self.ca is None:
            return True  # the system's trust store, no client certificate
        context = ssl.create_default_context(cafile=self.ca)
        if self.certificate is not None:
            context.load_cert_chain(self.certificate, self.private_key)
        return context


@attrs.frozen
class Endpoint:
    """Where and how one provider is reached."""

    provider: Provider
    url: str
    timeout: float
    max_answer_bytes: int
    max_connections: int = 20
    tls: Tls = Tls()

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 3.0)),
            limits=httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=self.max_connections,
            ),
            verify=self.tls.context(),
            follow_redirects=False,
            trust_env=False,
        )


class Wire:
    """One provider's endpoint and its client."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.client = endpoint.client()
        self._name = PROFILES[endpoint.provider].name

    async def exchange(
        self, method: str, url: str, content: bytes | None, headers: Mapping[str, str]
    ) -> tuple[int, bytes]:
        """The status and the (capped) body of one request."""
        try:
            async with asyncio.timeout(self.endpoint.timeout):
                async with self.client.stream(
                    method, url, content=content, headers=dict(headers)
                ) as response:
                    return response.status_code, await self._bounded(response)
        except httpx.TimeoutException:
            raise TimeoutError(f"{self._name} did not answer in time") from None
        except TimeoutError:
            raise TimeoutError(f"{self._name} did not answer in time") from None
        except httpx.TransportError:
            raise BaseServiceUnreachableError(
                f"{self._name}'s base service could not be reached"
            ) from None

    async def _bounded(self, response: httpx.Response) -> bytes:
        limit = self.endpoint.max_answer_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise MalformedAnswerError(f"{self._name} answered with more than {limit} bytes")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise MalformedAnswerError(f"{self._name} answered with more than {limit} bytes")
        return bytes(body)

    async def reach(self, url: str) -> BaseServiceHealth:
        """A GET without personal data: reachable when it answers 200."""
        provider, started = self.endpoint.provider, time.monotonic()
        try:
            status, _ = await self.exchange("GET", url, None, {})
        except (BaseServiceUnreachableError, TimeoutError):
            return BaseServiceHealth(provider, False, _ms(started), "could not connect")
        except MalformedAnswerError:
            return BaseServiceHealth(provider, False, _ms(started), "answered with too much")
        detail = "answered the test call" if status == 200 else f"HTTP {status}"
        return BaseServiceHealth(provider, status == 200, _ms(started), detail)

    async def close(self) -> None:
        await self.client.aclose()


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
