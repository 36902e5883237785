"""``Fields``: how every gRPC servicer reads a request's fields.

Each reader returns the value, or a placeholder after noting a ``FieldViolation`` (the field's
name and the rule, never the value, ADR 4); ``done()`` then refuses the request with every
broken field at once (``InvalidRequestError``: ``INVALID_ARGUMENT`` with a ``BadRequest``).
Unknown enum values are refused, not mapped (ADR 0005). Readers that belong to one service
(an incident's priority, a dispute's party) are a subclass in that service's translation.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from uuid import UUID

from google.type.date_pb2 import Date

from adapters.grpc.translation import provider_from_proto
from application.errors import InvalidRequestError
from domain.errors import FieldViolation, InvalidValueError
from domain.providers import Provider
from domain.reference import opaque_reference, organisation_digits

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


class Fields:
    """Reads a request's fields, collecting every violation; ``done()`` raises them at once."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def fail(self, field: str, description: str) -> None:
        self.violations.append(FieldViolation(field, description))

    def done(self) -> None:
        if self.violations:
            raise InvalidRequestError(self.violations)

    def enum(
        self,
        field: str,
        name_of: Callable[[Any], str],
        value: int,
        prefix: str,
        kind: type[E],
        *,
        required: bool = True,
    ) -> E | None:
        """The member of ``kind`` named as the generated enum's ``Name`` (``name_of``) names
        ``value``, without ``prefix``; 0 (unspecified) is none, refused when ``required``."""
        if value == 0:
            if required:
                self.fail(field, "is required")
            return None
        try:
            name = name_of(value).removeprefix(prefix)
        except ValueError:
            name = ""
        if name not in kind.__members__:
            self.fail(field, "is not a known value")
            return None
        return kind[name]

    def date(self, field: str, message: Date, *, required: bool = True) -> dt.date | None:
        if (message.year, message.month, message.day) == (0, 0, 0):
            if required:
                self.fail(field, "is required")
            return None
        try:
            return dt.date(message.year, message.month, message.day)
        except ValueError:
            self.fail(field, "must be a valid date")
            return None

    def amount(self, field: str, text: str) -> Decimal | None:
        """A finite decimal amount in SEK."""
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            self.fail(field, "must be a decimal amount in SEK")
            return None
        return value

    def uuid(self, field: str, text: str) -> UUID:
        try:
            return UUID(text)
        except ValueError:
            self.fail(field, "must be a UUID")
            return UUID(int=0)

    def uuids(self, field: str, texts: Iterable[str]) -> list[UUID]:
        return [self.uuid(f"{field}[{index}]", text) for index, text in enumerate(texts)]

    def reference(self, field: str, text: str) -> str:
        """An opaque reference into another system's records (``domain.reference``)."""
        return self._checked(field, opaque_reference, text)

    def organisation(self, field: str, text: str) -> str:
        """An organisation number's ten digits."""
        return self._checked(field, organisation_digits, text)

    def _checked(self, field: str, check: Callable[[str], str], text: str) -> str:
        try:
            return check(text)
        except InvalidValueError as error:
            self.fail(field, error.description)
            return ""

    def providers(self, field: str, values: Iterable[int]) -> list[Provider]:
        found: list[Provider] = []
        for index, value in enumerate(values):
            provider = provider_from_proto(value)
            if provider is None:
                self.fail(f"{field}[{index}]", "is not a known provider")
            else:
                found.append(provider)
        return found


def given(value: T | None) -> T:
    """A field ``Fields.done`` has vouched for."""
    assert value is not None
    return value
