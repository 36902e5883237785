"""A base-service adapter over HTTP and JSON: the shape of a real provider adapter.

    POST {url}/{provider}/bastjanst   {"personnummer": "YYYYMMDDNNNC", "from": "...", "tom": "..."}
      200  the provider's answer in its own wire format (JSON), read by the provider's reader
      4xx/5xx  {"felkod": "...", "felmeddelande": "..."}: the base service's own failure (BT)
    GET  {url}/{provider}/test        200 when the base service is reachable (no personal data)

Failures map onto the port's errors: a refused or reset connection is
``BaseServiceUnreachableError`` (source SSBT); a 2xx answer larger than ``max_answer_bytes``, or
one that is not JSON or not the provider's format, is ``MalformedAnswerError`` (SSBT); a slow
drip is cut off by the saga's deadline, which cancels the call and closes the stream. Any
other status is the base service's failure (BT), whatever its body: the contract's error
answer gives the provider's code and message, anything else (a proxy's HTML page, an empty
body) ``HTTP_<status>`` (ADR 20).

Each provider has a connection pool of its own (``max_connections``, default 256, more
than the fan-out's bulkhead lets through by default) and never waits for a connection:
with the pool full the call fails at once (``BaseServiceBusyError``, SSBT ``TOO_MANY_CALLS``).
The test call has a second, small pool of its own, so a provider whose query calls are
stuck is still checked as it is. The client is aiohttp: about a seventh of httpx's CPU per
request, which under load decides whether the event loop keeps up (ADR 20).
Messages never hold the request or the answer. The readers of the provider formats are the
ones the simulated providers use (``adapters.providers.simulated``); a production adapter
for a provider brings its own reader for the provider's real contract.

Configured by the ``http`` entry point: ``--providers http --provider-options
url=http://base-services.example:8080,max_answer_bytes=1000000,max_connections=256`` (or
``<PROVIDER>.url=...``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Final
from urllib.parse import urlsplit

import aiohttp

from adapters.providers.simulated.catalogue import read_payload
from application.ports import (
    BaseService,
    BaseServiceBusyError,
    BaseServiceHealth,
    BaseServiceReportedError,
    BaseServiceUnreachableError,
    MalformedAnswerError,
)
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.answer import ProviderAnswer
from domain.query.values import Period

DEFAULT_MAX_ANSWER_BYTES: Final = 1_000_000
DEFAULT_MAX_CONNECTIONS: Final = 256
CHECK_CONNECTIONS: Final = 2
ERROR_BODY_BYTES: Final = 65_536
"""Read of an error answer at most: enough for the contract's error, not for a proxy's page."""


class _Pool:
    """One provider's connections: at most ``size`` calls at once, never a wait for one.

    The session is made on first use, in the running event loop (and again in another
    loop, as tests run one loop per test)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.in_use = 0
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._loop = loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.size, limit_per_host=0),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5.0),
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[aiohttp.ClientSession]:
        if self.in_use >= self.size:
            raise BaseServiceBusyError("no free connection to the base service")
        self.in_use += 1
        try:
            yield self._current()
        finally:
            self.in_use -= 1


class HttpJsonBaseService:
    def __init__(
        self,
        provider: Provider,
        url: str,
        *,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self._provider = provider
        self._url = f"{url.rstrip('/')}/{provider.value.lower()}"
        self._calls = _Pool(max_connections)
        self._checks = _Pool(CHECK_CONNECTIONS)
        self._max_answer_bytes = max_answer_bytes

    @property
    def provider(self) -> Provider:
        return self._provider

    def __repr__(self) -> str:
        return f"HttpJsonBaseService({self._provider.value})"

    async def fetch(self, subject: PersonalIdentityNumber, period: Period) -> ProviderAnswer:
        request = {
            "personnummer": subject.digits,
            "from": period.start.isoformat(),
            "tom": period.end.isoformat(),
        }
        try:
            async with (
                self._calls.slot() as session,
                session.post(f"{self._url}/bastjanst", json=request) as response,
            ):
                status = response.status
                if not 200 <= status < 300:
                    raise self._failure(status, await _read_at_most(response, ERROR_BODY_BYTES))
                body = await _read_at_most(response, self._max_answer_bytes)
        except aiohttp.ClientResponseError:  # not HTTP at all
            raise MalformedAnswerError("the answer is not an HTTP response") from None
        except (aiohttp.ClientError, OSError):
            raise BaseServiceUnreachableError("the base service could not be reached") from None
        if body is None:
            raise MalformedAnswerError(f"the answer is larger than {self._max_answer_bytes} bytes")
        return ProviderAnswer(
            self._provider, subject, read_payload(self._provider, self._json(body), subject)
        )

    @staticmethod
    def _json(body: bytes) -> object:
        try:
            return json.loads(body)
        except ValueError:
            raise MalformedAnswerError("the answer is not JSON") from None

    @staticmethod
    def _failure(status: int, body: bytes | None) -> BaseServiceReportedError:
        """BT whatever the body: the contract's error answer, else the HTTP status."""
        try:
            payload = json.loads(body) if body is not None else None
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            code, message = payload.get("felkod"), payload.get("felmeddelande")
            if isinstance(code, str) and isinstance(message, str):
                return BaseServiceReportedError(code, message)
        return BaseServiceReportedError(
            f"HTTP_{status}", f"the base service answered with HTTP status {status}"
        )

    async def check(self) -> BaseServiceHealth:
        started = time.monotonic()
        try:
            async with (
                self._checks.slot() as session,
                session.get(f"{self._url}/test") as response,
            ):
                status = response.status
        except BaseServiceBusyError:
            return BaseServiceHealth(
                self._provider, False, _ms(started), "earlier checks still wait for an answer"
            )
        except (aiohttp.ClientError, OSError):
            return BaseServiceHealth(self._provider, False, _ms(started), "could not connect")
        reachable = status == 200
        detail = "answered the test call" if reachable else f"HTTP {status}"
        return BaseServiceHealth(self._provider, reachable, _ms(started), detail)


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or ``None`` once it grows past ``limit`` bytes (the rest is never read)."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(65_536):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _url(text: str) -> str:
    url = urlsplit(text)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError("needs an http:// or https:// URL with a host")
    return text


def _whole(text: str) -> str:
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError("needs a whole number, 1 or more")
    return text


def option_problems(options: Mapping[str, str]) -> list[str]:
    """Every problem with these options, one line each naming the option (none: usable)."""
    checks = {"url": _url, "max_answer_bytes": _whole, "max_connections": _whole}
    for provider in Provider:
        checks |= {f"{provider.name}.url": _url, f"{provider.name}.max_connections": _whole}
    problems: list[str] = []
    for key, value in options.items():
        if key not in checks:
            problems.append(
                f"{key}: unknown option for the http base services; known: url, "
                "max_answer_bytes, max_connections, <PROVIDER>.url, <PROVIDER>.max_connections"
            )
            continue
        try:
            checks[key](value)
        except ValueError as error:
            problems.append(f"{key}: {error}")
    problems += [
        f"{provider.name}.url: no url for {provider.name}: give url= or {provider.name}.url="
        for provider in Provider
        if not (options.get(f"{provider.name}.url") or options.get("url"))
    ]
    return problems


def build_http_base_services(options: Mapping[str, str]) -> dict[Provider, BaseService]:
    """The ``http`` entry point: ``url`` for all providers, ``<PROVIDER>.url`` for one;
    ``max_connections`` (each provider's pool) for all, ``<PROVIDER>.max_connections`` for one.
    """
    problems = option_problems(options)
    if problems:
        raise ValueError("; ".join(problems))
    limit = int(options.get("max_answer_bytes", DEFAULT_MAX_ANSWER_BYTES))
    services: dict[Provider, BaseService] = {}
    for provider in Provider:
        url = options.get(f"{provider.name}.url") or options["url"]
        connections = int(
            options.get(
                f"{provider.name}.max_connections",
                options.get("max_connections", DEFAULT_MAX_CONNECTIONS),
            )
        )
        services[provider] = HttpJsonBaseService(
            provider, url, max_answer_bytes=limit, max_connections=connections
        )
    return services
