"""A base-service adapter over HTTP and JSON: the shape of a real provider adapter.

    POST {url}/{provider}/bastjanst   {"personnummer": "YYYYMMDDNNNC", "from": "...", "tom": "..."}
      200  the provider's answer in its own wire format (JSON), read by the provider's reader
      4xx/5xx  {"felkod": "...", "felmeddelande": "..."}: the base service's own failure (BT)
    GET  {url}/{provider}/test        200 when the base service is reachable (no personal data)

Failures map onto the port's errors: a refused or reset connection is
``BaseServiceUnreachable`` (source SSBT); an answer larger than ``max_answer_bytes``, or one
that is not JSON or not the provider's format, is ``MalformedAnswerError`` (SSBT); a slow
drip is cut off by the saga's deadline, which cancels the call and closes the stream.
Messages never hold the request or the answer. The readers of the provider formats are the
ones the simulated providers use (``adapters.providers.simulated``); a production adapter
for a provider brings its own reader for the provider's real contract.

Configured by the ``http`` entry point: ``--providers http --provider-options
url=http://base-services.example:8080,max_answer_bytes=1000000`` (or ``<PROVIDER>.url=...``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Final

import httpx

from adapters.providers.simulated.catalogue import read_payload
from application.ports import (
    BaseService,
    BaseServiceFailure,
    BaseServiceHealth,
    BaseServiceUnreachable,
    MalformedAnswerError,
)
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.answer import ProviderAnswer
from domain.query.values import Period

DEFAULT_MAX_ANSWER_BYTES: Final = 1_000_000


class HttpJsonBaseService:
    def __init__(
        self,
        provider: Provider,
        url: str,
        client: httpx.AsyncClient,
        *,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    ) -> None:
        self._provider = provider
        self._url = f"{url.rstrip('/')}/{provider.value.lower()}"
        self._client = client
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
            async with self._client.stream(
                "POST", f"{self._url}/bastjanst", json=request
            ) as response:
                body = await self._read_bounded(response)
                status = response.status_code
        except httpx.TransportError:
            raise BaseServiceUnreachable("the base service could not be reached") from None
        payload = self._json(body)
        if status >= 400:
            raise self._failure(status, payload)
        return ProviderAnswer(
            self._provider, subject, read_payload(self._provider, payload, subject)
        )

    async def _read_bounded(self, response: httpx.Response) -> bytes:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self._max_answer_bytes:
                raise MalformedAnswerError(
                    f"the answer is larger than {self._max_answer_bytes} bytes"
                )
        return bytes(body)

    @staticmethod
    def _json(body: bytes) -> object:
        try:
            return json.loads(body)
        except ValueError:
            raise MalformedAnswerError("the answer is not JSON") from None

    @staticmethod
    def _failure(status: int, payload: object) -> BaseServiceFailure:
        if isinstance(payload, dict):
            code, message = payload.get("felkod"), payload.get("felmeddelande")
            if isinstance(code, str) and isinstance(message, str):
                return BaseServiceFailure(code, message)
        return BaseServiceFailure(f"HTTP_{status}", "the base service answered with an error")

    async def check(self) -> BaseServiceHealth:
        started = time.monotonic()
        try:
            response = await self._client.get(f"{self._url}/test")
        except httpx.TransportError:
            return BaseServiceHealth(self._provider, False, _ms(started), "could not connect")
        reachable = response.status_code == 200
        detail = "answered the test call" if reachable else f"HTTP {response.status_code}"
        return BaseServiceHealth(self._provider, reachable, _ms(started), detail)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _url(text: str) -> str:
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        url = httpx.URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("needs an http:// or https:// URL with a host")
    return text


def _bytes(text: str) -> str:
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError("needs a whole number of bytes, 1 or more")
    return text


def option_problems(options: Mapping[str, str]) -> list[str]:
    """Every problem with these options, one line each naming the option (none: usable)."""
    checks = {"url": _url, "max_answer_bytes": _bytes} | {f"{p.name}.url": _url for p in Provider}
    problems: list[str] = []
    for key, value in options.items():
        if key not in checks:
            problems.append(
                f"{key}: unknown option for the http base services; known: url, "
                "max_answer_bytes, <PROVIDER>.url"
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
    """The ``http`` entry point: ``url`` for all providers, ``<PROVIDER>.url`` for one."""
    problems = option_problems(options)
    if problems:
        raise ValueError("; ".join(problems))
    limit = int(options.get("max_answer_bytes", DEFAULT_MAX_ANSWER_BYTES))
    client = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=5.0))
    return {
        provider: HttpJsonBaseService(
            provider,
            options.get(f"{provider.name}.url") or options["url"],
            client,
            max_answer_bytes=limit,
        )
        for provider in Provider
    }
