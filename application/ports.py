"""Ports: what the application needs from the world, as Protocols.

Adapters implement them (``adapters/``); the composition root wires them
(``infrastructure/composition.py``); unit tests use fakes (``tests/fakes.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import attrs

from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.answer import ProviderAnswer
from domain.query.values import Period


class BaseServiceError(Exception):
    """A base service call did not give a usable answer.

    Subclasses say why. Messages must never contain personal data: adapters build
    them from the kind of failure, never from the request or the answer.
    """


class BaseServiceReportedError(BaseServiceError):
    """The base service itself reported a failure (error source BT).

    ``code`` is the provider's error code and ``message`` its error text; both are
    returned to the caller, only a sanitised ``code`` is ever stored.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__("the base service reported a failure")
        self.code = code
        self.message = message


class BaseServiceUnreachableError(BaseServiceError):
    """The base service could not be reached (error source SSBT)."""


class BaseServiceBusyError(BaseServiceError):
    """The adapter has no free connection to the base service; the call was not made
    (source SSBT ``TOO_MANY_CALLS``). An adapter never waits for a connection (ADR 20)."""


class MalformedAnswerError(BaseServiceError):
    """The base service answered with something that is not a valid answer (source SSBT)."""


class BaseService(Protocol):
    """One provider's base service (bastjänst)."""

    @property
    def provider(self) -> Provider: ...

    async def fetch(self, subject: PersonalIdentityNumber, period: Period) -> ProviderAnswer:
        """Everything the provider holds about the subject for the period.

        Raises a ``BaseServiceError`` when it cannot give a usable answer.
        """
        ...

    async def check(self) -> BaseServiceHealth:
        """Reach the base service without any personal data (v10 ``testaBastjanstInformation``)."""
        ...


@attrs.frozen
class BaseServiceHealth:
    """Whether a base service was reached; no personal data."""

    provider: Provider
    reachable: bool
    latency_ms: int
    detail: str


class Clock(Protocol):
    """Wall time for the record and monotonic time for measuring."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for latencies."""
        ...


class Pseudonymiser(Protocol):
    """Turns an identifier into a keyed pseudonym that can be stored (HMAC with a secret key)."""

    def pseudonym(self, purpose: str, value: str) -> str: ...


@attrs.frozen
class AccessDecision:
    """Whether an organisation's caseworker may query now, and under which terms.

    ``refusal`` is ``None`` when the query may go ahead; otherwise a reason code
    (``domain.query.aggregate.RejectionReason`` name). ``providers_not_connected``: data
    providers that are parties but not connected on the query's day (004 § 17.1, 17.3,
    18.1); ``providers_stopped``: providers that stopped serving this municipality
    (001 § 7.2). Neither is asked. No personal data.
    """

    refusal: str | None
    vehicle_register_consent: bool
    providers_not_connected: frozenset[Provider] = frozenset()
    providers_stopped: frozenset[Provider] = frozenset()


class AccessPolicy(Protocol):
    """Who may ask: a connected municipality, through a caseworker who has signed the
    assurance and is not revoked (004 § 9.2.9, § 12.4.5). Implemented by the Parties
    application; the caseworker is known here only by the saga's keyed pseudonym."""

    def decide(
        self, organisation_number: str, caseworker_pseudonym: str, at: dt.datetime
    ) -> AccessDecision: ...

    def decided(
        self, organisation_number: str, caseworker_pseudonym: str, at: dt.datetime
    ) -> AccessDecision | None:
        """A decision still fresh enough to reuse, found without any I/O; ``None`` when
        ``decide`` must be asked (it may read the store)."""
        ...


class Metrics(Protocol):
    """Operational figures. Labels are codes and provider names only: never personal data."""

    def query_finished(self, outcome: str, seconds: float, entry_point: str) -> None:
        """One query ended: ``outcome`` is ``ANSWERED`` (the answer was handed over), a
        refusal reason code, ``CANCELLED`` or ``DEADLINE_EXCEEDED`` (the caller went away
        first), ``AUDIT_UNAVAILABLE`` or ``INTERNAL``; ``entry_point`` the API it came
        through (``GRPC``, ``SOAP_V10``)."""
        ...

    def call_finished(
        self, provider: str, outcome: str, error_source: str | None, seconds: float
    ) -> None:
        """One provider call ended (outcome kind, SSBT/BT when it failed)."""
        ...


class NoMetrics:
    """Metrics that go nowhere (unit tests, and a service run without an endpoint)."""

    def query_finished(self, outcome: str, seconds: float, entry_point: str) -> None:
        return None

    def call_finished(
        self, provider: str, outcome: str, error_source: str | None, seconds: float
    ) -> None:
        return None


class RateLimiter(Protocol):
    """Per-organisation admission: may one more query from this organisation start now?"""

    def admit(self, organisation_number: str) -> bool: ...

    def retry_after_s(self, organisation_number: str) -> float:
        """After a refusal: seconds until the organisation may start one again."""
        ...


class Checkpoints(Protocol):
    """Named points in the saga (``fan-out``, ``before-save``, ``after-save``).

    Production passes none; the crash tests pass one that kills the process there.
    """

    def reached(self, name: str) -> None: ...


class NoCheckpoints:
    def reached(self, name: str) -> None:
        return None
