"""Commands as the edge hands them over: PERSONAL DATA, unvalidated primitives.

The gRPC adapter turns a request into a ``QueryCommand`` without judging it; the
rules live in ``application.validation`` so every transport gets the same answers.
Field names follow the public API, so a violation can name the request field.
"""

from __future__ import annotations

import attrs

from domain.query.values import EntryPoint

DateParts = tuple[int, int, int]
"""(year, month, day) exactly as the request held them; (0, 0, 0) means not given."""


@attrs.frozen(repr=False)
class PeriodCommand:
    start: DateParts
    end: DateParts


@attrs.frozen(repr=False)
class ProviderSelectionCommand:
    provider: str
    period: PeriodCommand | None = None


@attrs.frozen(repr=False)
class QueryCommand:
    """A query as the case system sent it. Enum fields hold domain enum names or ``""``."""

    client_request_id: str
    organisation_number: str
    organisation_name: str
    caseworker_id: str
    case_id: str
    purpose: str
    legal_basis: str
    period: PeriodCommand | None
    subjects: tuple[str, ...]
    providers: tuple[ProviderSelectionCommand, ...] = ()
    authenticated_organisation: str | None = None
    """The organisation number in the caller's client certificate (mTLS), if any."""
    entry_point: EntryPoint = EntryPoint.GRPC
    """Which public API the query came through: recorded in its audit events."""

    def __repr__(self) -> str:
        return "QueryCommand(<personal data redacted>)"
