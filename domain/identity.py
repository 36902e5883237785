"""Identity numbers: the applicant's personal identity number and an organisation number.

``PersonalIdentityNumber`` is personal data. It lives in memory for the life of one
query and never reaches an event, a log line or an error message: its ``repr`` is
masked and every validation error names the rule that failed, never the value.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import attrs
from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.se import orgnr

from domain.errors import InvalidValueError

_COORDINATION_DAY_OFFSET: Final = 60


def _digits_only(raw: str, *, separators: str) -> str:
    text = raw.strip()
    for separator in separators:
        text = text.replace(separator, "")
    return text


@attrs.frozen(repr=False, weakref_slot=True)
class PersonalIdentityNumber:
    """A Swedish personnummer or samordningsnummer in its 12-digit form ``YYYYMMDDNNNC``.

    A samordningsnummer (coordination number) adds 60 to the day of birth.
    ``python-stdnum``'s ``se.personnummer`` rejects those (it reads day 72 as a bad
    date), so the date rule lives here and the check digit uses ``stdnum.luhn``.
    """

    digits: str

    @classmethod
    def parse(cls, raw: str) -> PersonalIdentityNumber:
        """Accept ``YYYYMMDDNNNC`` or ``YYYYMMDD-NNNC``; refuse everything else."""
        text = raw.strip()
        if len(text) == 13 and text[8] == "-":
            text = text[:8] + text[9:]
        if len(text) != 12 or not text.isascii() or not text.isdigit():
            raise InvalidValueError("must be 12 digits: YYYYMMDDNNNC or YYYYMMDD-NNNC")
        year, month, day = int(text[0:4]), int(text[4:6]), int(text[6:8])
        if day > _COORDINATION_DAY_OFFSET:
            day -= _COORDINATION_DAY_OFFSET
        try:
            dt.date(year, month, day)
        except ValueError:
            raise InvalidValueError("does not hold a valid date of birth") from None
        if year < 1850:
            raise InvalidValueError("does not hold a valid date of birth")
        try:
            luhn.validate(text[2:])
        except ValidationError:
            raise InvalidValueError("has a wrong check digit") from None
        return cls(text)

    @property
    def is_coordination_number(self) -> bool:
        """True for a samordningsnummer (day of birth plus 60)."""
        return int(self.digits[6:8]) > _COORDINATION_DAY_OFFSET

    @property
    def birth_date(self) -> dt.date:
        day = int(self.digits[6:8])
        if day > _COORDINATION_DAY_OFFSET:
            day -= _COORDINATION_DAY_OFFSET
        return dt.date(int(self.digits[0:4]), int(self.digits[4:6]), day)

    def __repr__(self) -> str:
        return "PersonalIdentityNumber(<redacted>)"

    __str__ = __repr__


@attrs.frozen
class OrganisationNumber:
    """A Swedish organisation number (organisationsnummer), ten digits ``NNNNNN-NNNN``.

    Organisation numbers of municipalities and agencies are public, not personal data.
    """

    digits: str

    @classmethod
    def parse(cls, raw: str) -> OrganisationNumber:
        text = _digits_only(raw, separators="- ")
        if len(text) == 12 and text.startswith("16"):
            text = text[2:]  # the "16" century prefix some registers put before orgnr
        if len(text) != 10 or not text.isascii() or not text.isdigit():
            raise InvalidValueError("must be 10 digits: NNNNNN-NNNN")
        if not orgnr.is_valid(text):
            raise InvalidValueError("is not a valid organisation number")
        return cls(text)

    def __str__(self) -> str:
        return f"{self.digits[:6]}-{self.digits[6:]}"
