"""Opaque references: how service management names people and documents without holding them.

A reporter, a dispute's subject, a party's view or a decision is stored only as a
reference into the party's own records (a ticket number, a diary number, a document
id). A reference is short and code-shaped and never holds a personal identity number, so no
name, personnummer or free text reaches an event through it (ADR 0004).
"""

from __future__ import annotations

import re
from typing import Final

from stdnum import luhn

from domain.errors import InvalidValueError
from domain.identity import OrganisationNumber

MAX_REFERENCE: Final = 64
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/#-]{0,63}")
_DIGIT_RUN = re.compile(r"(?<!\d)(?:\d{2})?\d{6}[-+]?\d{4}(?!\d)")


def _looks_like_identity_number(text: str) -> bool:
    """Whether ``text`` holds a run of digits that could be a personnummer or
    samordningsnummer: a plausible month and day (or day + 60) and a valid check digit."""
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"[-+]", "", match.group())[-10:]
        month, day = int(digits[2:4]), int(digits[4:6])
        plausible_day = 1 <= day <= 31 or 61 <= day <= 91
        if 1 <= month <= 12 and plausible_day and luhn.is_valid(digits):
            return True
    return False


def opaque_reference(raw: str) -> str:
    """A code-shaped reference (``INC-2026-0042``, ``Dnr 2026/123`` written ``DNR-2026/123``).

    Refuses anything else, and anything holding a personal identity number, with a
    message that names the rule, never the value.
    """
    text = raw.strip()
    if not _REFERENCE.fullmatch(text):
        raise InvalidValueError(
            f"must be a reference of 1 to {MAX_REFERENCE} letters, digits or _.:/#-"
        )
    if _looks_like_identity_number(text):
        raise InvalidValueError("must not hold a personal identity number")
    return text


def organisation_digits(raw: str) -> str:
    """An organisation number's ten digits; organisation numbers are public."""
    return OrganisationNumber.parse(raw).digits
