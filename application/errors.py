"""Errors the application reports to its callers; adapters map them to transport statuses.

No message or attribute holds personal data: violations name fields and rules only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from uuid import UUID

from domain.errors import FieldViolation


class ApplicationError(Exception):
    """Base class of the errors a use case reports."""


class InvalidRequestError(ApplicationError):
    """The request broke one or more rules; each violation names a field and a rule."""

    def __init__(self, violations: Sequence[FieldViolation]) -> None:
        super().__init__(f"the request has {len(violations)} invalid field(s)")
        self.violations = tuple(violations)


class DuplicateQueryError(ApplicationError):
    """A query with the same client request id was already answered for the organisation.

    Names the query (its id, when it was received, where it stands now: a ``QueryStatus``
    value, and when its answer was delivered) so that a caller whose first call timed out
    can tell what happened. None of it is personal data. Raised only when the answer was
    delivered: a query closed unanswered is run again instead (ADR 6).
    """

    def __init__(
        self,
        query_id: UUID,
        received_at: dt.datetime | None = None,
        state: str | None = None,
        delivered_at: dt.datetime | None = None,
    ) -> None:
        super().__init__("a query with this client_request_id was already answered")
        self.query_id = query_id
        self.received_at = received_at
        self.state = state
        self.delivered_at = delivered_at


class QueryInProgressError(ApplicationError):
    """An earlier call with the same client request id is still being answered.

    Nothing was asked; retry with the same id after ``retry_after_s``: by then the earlier
    call has ended, answered (the retry gets ``DuplicateQueryError``) or not (it runs again).
    """

    def __init__(self, query_id: UUID, retry_after_s: float) -> None:
        super().__init__("an earlier call with this client_request_id is still in progress")
        self.query_id = query_id
        self.retry_after_s = retry_after_s


class AuditUnavailableError(ApplicationError):
    """The audit trail could not be written, so no answer may be released."""

    def __init__(self) -> None:
        super().__init__("the audit trail is unavailable; the query was not answered")


class DeadlineExceededError(ApplicationError):
    """The caller's own deadline passed before the answer could be released: it was not
    delivered, and the trail says so (``Query.Cancelled``, ``DEADLINE_EXCEEDED``)."""

    def __init__(self) -> None:
        super().__init__("the caller's deadline passed before the answer could be released")


class RuleViolationError(ApplicationError):
    """A command broke a rule of the agreement; ``rule`` says which, ``clause`` where it stands.

    Reported as ``FAILED_PRECONDITION``: the request was well formed, the state does not allow it.
    """

    def __init__(self, rule: str, clause: str = "") -> None:
        super().__init__(f"{rule} ({clause})" if clause else rule)
        self.rule = rule
        self.clause = clause


class NotFoundError(ApplicationError):
    """The thing a command names does not exist. ``kind`` names what was looked for."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"no such {kind}")
        self.kind = kind


class ConflictError(ApplicationError):
    """Another change to the same aggregate won the race; the caller may re-read and retry."""

    def __init__(self) -> None:
        super().__init__("the record was changed concurrently; read it again and retry")


class PermissionDeniedError(ApplicationError):
    """The caller may not do this; ``reason`` is a code, never personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"permission denied: {reason}")
        self.reason = reason


class OverloadedError(ApplicationError):
    """The service is at its limit; the query was not started. ``reason`` is a code.

    ``retry_after_s``: how long the caller should wait (admission control measures it from
    the drain rate, ADR 26); ``None``: one second. ``quota``: which limit (``SERVICE_LIMIT``,
    ``ORGANISATION_SHARE``), and ``limit`` its size when it was refused."""

    def __init__(
        self,
        reason: str,
        *,
        retry_after_s: float | None = None,
        quota: str = "",
        limit: int | None = None,
    ) -> None:
        super().__init__(f"the service is overloaded ({reason}); retry later")
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.quota = quota
        self.limit = limit
