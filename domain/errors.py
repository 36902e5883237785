"""Errors raised by domain rules.

Messages never contain the offending value: a value may be personal data.
"""

from __future__ import annotations

import attrs


class DomainError(Exception):
    """Base class of every error a domain rule raises."""


@attrs.frozen
class FieldViolation:
    """One invalid field of a request: where it is, and why, never what it held."""

    field: str
    description: str


class InvalidValueError(DomainError, ValueError):
    """A value object refused its input. The message names the rule, not the value."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidFieldError(InvalidValueError):
    """A value an aggregate was about to record broke a rule; names the field, not the value."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(description)
        self.field = field
