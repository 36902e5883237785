"""Errors the application reports to its callers; adapters map them to transport statuses.

No message or attribute holds personal data: violations name fields and rules only.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import FieldViolation


class ApplicationError(Exception):
    """Base class of the errors a use case reports."""


class InvalidQueryError(ApplicationError):
    """The request broke one or more rules; each violation names a field and a rule."""

    def __init__(self, violations: Sequence[FieldViolation]) -> None:
        super().__init__(f"the query has {len(violations)} invalid field(s)")
        self.violations = tuple(violations)


class DuplicateQueryError(ApplicationError):
    """A query with the same client request id was already received from the organisation."""

    def __init__(self) -> None:
        super().__init__("a query with this client_request_id was already received")


class AuditUnavailableError(ApplicationError):
    """The audit trail could not be written, so no answer may be released."""

    def __init__(self) -> None:
        super().__init__("the audit trail is unavailable; the query was not answered")
