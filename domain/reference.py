"""The one rule for caller-supplied text that reaches an event (ADR 0004).

A reporter, a dispute's subject, a party's view or a decision is stored only as a
reference into the party's own records (a ticket number, a diary number, a document
id): the document itself stays in the caller's system. Every text a caller types that
an event keeps goes through this module, and is one of two things:

- a **reference** (``opaque_reference``): short and code-shaped, and proven free of
  personal identity numbers by ``holds_identity_number``;
- a **public name** of a party (``public_name``): a municipality's or an agency's
  registered name, printable, and proven free of identity numbers the same way.

Everything else a caller types is not stored at all: the case id (nothing), the
caseworker id and the client request id (a keyed pseudonym only). ADR 0004's table says
which field gets which. Domain aggregates apply the rule again as they record the event
(``stored_reference``), so no path around the adapters can store such a text unchecked.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from stdnum import luhn

from domain.errors import InvalidFieldError, InvalidValueError
from domain.identity import OrganisationNumber

MAX_REFERENCE: Final = 64
MAX_NAME: Final = 200
IDENTITY_NUMBER_RULE: Final = "must not hold a personal identity number"
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/#-]{0,63}")
_WINDOW: Final = 10
_COORDINATION_DAY_OFFSET: Final = 60


def _digits(text: str) -> str:
    """Every digit of ``text`` in order, as ASCII; everything else is dropped.

    Separators (``-``, ``+``, ``/``, ``.``, spaces), padding, prefixes, suffixes and
    letters mixed in between are all just "not a digit": ``REF/20030720/8256``,
    ``REF.490403.6110`` and ``00197701251618`` all become runs that hold the number.
    Digits of other scripts (full-width, Arabic-Indic, superscript) count as digits.
    """
    found = []
    for char in text:
        value = unicodedata.digit(char, None)
        if value is not None:
            found.append(str(value))
    return "".join(found)


def _plausible(window: str) -> bool:
    """Whether ten digits ``YYMMDDNNNC`` could be a personnummer or samordningsnummer: a
    month 01-12, a day 01-31 (or 61-91, day + 60) and a valid Luhn check digit."""
    month, day = int(window[2:4]), int(window[4:6])
    if day > _COORDINATION_DAY_OFFSET:
        day -= _COORDINATION_DAY_OFFSET
    return 1 <= month <= 12 and 1 <= day <= 31 and luhn.is_valid(window)


def holds_identity_number(text: str) -> bool:
    """Whether ``text`` could hold a personal identity number, however it is written.

    It normalises first (``_digits``: every non-digit is dropped), then scans every run
    of ten consecutive digits for a plausible date of birth and a valid check digit.
    That covers the 12-digit forms too: the last ten digits of a 12-digit number (with
    the century) are one of the ten-digit windows scanned. A code that merely happens to
    pass is refused as well; the caller then uses a different reference.
    """
    digits = _digits(text)
    return any(
        _plausible(digits[start : start + _WINDOW]) for start in range(len(digits) - _WINDOW + 1)
    )


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
    if holds_identity_number(text):
        raise InvalidValueError(IDENTITY_NUMBER_RULE)
    return text


def public_name(raw: str) -> str:
    """A party's registered name (``Demo kommun``): public, since every party is a
    municipality, an agency or SKR; printable, and free of identity numbers."""
    text = raw.strip()
    if not text or len(text) > MAX_NAME or not text.isprintable():
        raise InvalidValueError(f"must be 1 to {MAX_NAME} printable characters")
    if holds_identity_number(text):
        raise InvalidValueError(IDENTITY_NUMBER_RULE)
    return text


def stored_reference(field: str, raw: str) -> str:
    """``opaque_reference`` as an aggregate applies it to a field it is about to record;
    a refusal names the field (``InvalidFieldError``)."""
    try:
        return opaque_reference(raw)
    except InvalidValueError as error:
        raise InvalidFieldError(field, error.description) from None


def organisation_digits(raw: str) -> str:
    """An organisation number's ten digits; organisation numbers are public."""
    return OrganisationNumber.parse(raw).digits
