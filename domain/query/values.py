"""Value objects of a query that are not personal data and may be stored in events."""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Final

import attrs

from domain.errors import InvalidValueError
from domain.providers import Provider
from domain.reference import holds_identity_number

MAX_PERIOD: Final = dt.timedelta(days=731)
_CODE = re.compile(r"[A-Z0-9][A-Z0-9_.\-]{0,31}")


class Purpose(enum.Enum):
    """Why the municipality asks (001 § 5.3; 002; 004 § 12.4.2)."""

    FINANCIAL_ASSISTANCE_CASE = "FINANCIAL_ASSISTANCE_CASE"
    """Handling a case of financial assistance under SoL chapter 4, by a caseworker in it."""
    APPLICATION_PREPARATION = "APPLICATION_PREPARATION"
    """A contact-centre caseworker preparing an application (002), never a general question."""


class LegalBasis(enum.Enum):
    """The statute under which the providers are obliged to answer (v10 ``lagtext``)."""

    SOL_11_KAP_11 = "SOL_11_KAP_11"
    """Socialtjänstlagen 11 kap. 11 §: the duty of agencies to provide data."""
    FORORDNING_2008_975 = "FORORDNING_2008_975"
    """Förordning (2008:975) om uppgiftsskyldighet i vissa fall enligt socialtjänstlagen."""


class EntryPoint(enum.Enum):
    """Which of the service's public APIs a query came through: not personal data."""

    GRPC = "GRPC"
    """The service's own gRPC API (``ssbtek.v1.QueryService``)."""
    SOAP_V10 = "SOAP_V10"
    """The SSBTEK version 10 SOAP contract, for case systems that speak it (ADR 19)."""


class OutcomeKind(enum.Enum):
    """What came of one call to one provider about one subject."""

    ANSWERED = "ANSWERED"
    NO_DATA = "NO_DATA"
    ERROR = "ERROR"
    CLOSED = "CLOSED"
    NOT_ENTITLED = "NOT_ENTITLED"
    """The municipality may not receive this provider's data (e.g. vehicles without consent)."""
    PROVIDER_NOT_CONNECTED = "PROVIDER_NOT_CONNECTED"
    """The provider is not connected to the service on the query's day: it has withdrawn
    (004 § 17.1: the service ends for it on 31 December of the notice's year), was
    disconnected (004 § 18.1) or had to leave early (004 § 17.3)."""
    PROVIDER_STOPPED = "PROVIDER_STOPPED"
    """The provider has stopped providing data to this municipality, which did not comply
    with its changed qualification conditions within 30 days (001 § 7.2)."""


NOT_CALLED: Final = frozenset(
    {
        OutcomeKind.CLOSED,
        OutcomeKind.NOT_ENTITLED,
        OutcomeKind.PROVIDER_NOT_CONNECTED,
        OutcomeKind.PROVIDER_STOPPED,
    }
)
"""Outcomes of a provider that was not asked at all: neither answered nor failed."""


class ErrorSource(enum.Enum):
    """Where an error arose (v10 ``kalla``)."""

    SSBT = "SSBT"
    """The composite service could not get an answer: time-out, unreachable, malformed."""
    BT = "BT"
    """The base service itself reported a failure."""


class ServiceErrorCode(enum.Enum):
    """Error codes the composite service (source SSBT) itself assigns."""

    TIMEOUT = "TIMEOUT"
    UNREACHABLE = "UNREACHABLE"
    MALFORMED_ANSWER = "MALFORMED_ANSWER"
    ANSWER_MISMATCH = "ANSWER_MISMATCH"
    INTERNAL = "INTERNAL"
    UNAVAILABLE = "UNAVAILABLE"
    """Not asked: the provider's circuit breaker is open (it kept timing out or refusing)."""
    TOO_MANY_CALLS = "TOO_MANY_CALLS"
    """Not asked: the provider already has as many calls in progress as it is given."""


NOT_ASKED: Final = frozenset(
    {ServiceErrorCode.UNAVAILABLE.value, ServiceErrorCode.TOO_MANY_CALLS.value}
)
"""SSBT codes of calls the service refused itself, without reaching the provider (ADR 20)."""


UNSPECIFIED_PROVIDER_CODE: Final = "UNSPECIFIED"


def provider_error_code(raw: str) -> str:
    """A base service's error code as it may be stored: a short code, else ``UNSPECIFIED``.

    A provider's code is free text on the wire. Only something shaped like a code list
    value and free of identity numbers (``domain.reference``) is kept, so nothing
    personal can reach the audit trail through it.
    """
    code = raw.strip().upper()
    if not _CODE.fullmatch(code) or holds_identity_number(code):
        return UNSPECIFIED_PROVIDER_CODE
    return code


@attrs.frozen
class Period:
    """A period of dates, both ends inclusive (v10 ``Tidsperiod``: from, tom)."""

    start: dt.date
    end: dt.date

    @classmethod
    def of(cls, start: dt.date, end: dt.date) -> Period:
        if end < start:
            raise InvalidValueError("must not end before it starts")
        if end - start > MAX_PERIOD:
            raise InvalidValueError(f"must not be longer than {MAX_PERIOD.days} days")
        return cls(start, end)


@attrs.frozen
class CallOutcome:
    """The non-personal record of one call: which subject (by position), what came of it."""

    subject_index: int
    kind: OutcomeKind
    latency_ms: int
    error_source: ErrorSource | None = None
    error_code: str | None = None


@attrs.frozen
class ProviderCalls:
    """One provider's outcomes in a query: one per subject, in subject order."""

    provider: Provider
    outcomes: tuple[CallOutcome, ...]


@attrs.frozen
class ProviderSelection:
    """A provider the query includes, with its own period (the query's unless given)."""

    provider: Provider
    period: Period
