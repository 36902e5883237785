"""Hypothesis strategies: personal identity numbers hidden in references, every way a
person could write one down.

A number is a personnummer or samordningsnummer (day + 60) with a valid check digit,
written with 12 digits (with the century) or 10; with the usual ``-``, the ``+`` of a
person aged 100 or more, or any other separator (``/``, ``.``, ``:``, ``_``, ``#``, a
space) between any of its digits; padded with zeros; with a prefix and a suffix; with
letters mixed in between its digits. ``Hidden`` keeps the number's 12 digits, so a
canary scan can hunt for every written form of it afterwards.
"""

from __future__ import annotations

import datetime as dt
import string

import attrs
from hypothesis import strategies as st
from stdnum import luhn

REFERENCE_SEPARATORS = "-/.:_#"
"""Separators a code-shaped reference may hold (``domain.reference``)."""
OTHER_SEPARATORS = "+ "
"""Separators only free text holds (a party's name)."""


@attrs.frozen
class Hidden:
    number: str
    """The 12 digits, ``YYYYMMDDNNNC`` (day + 60 for a samordningsnummer)."""
    text: str
    """The reference or name the number is hidden in."""


@st.composite
def identity_numbers(draw: st.DrawFn) -> str:
    """A valid personnummer or samordningsnummer, 12 digits."""
    born = draw(st.dates(dt.date(1870, 1, 1), dt.date(2026, 12, 31)))
    coordination = draw(st.booleans())
    serial = draw(st.integers(0, 999))
    day = born.day + (60 if coordination else 0)
    body = f"{born.year % 100:02d}{born.month:02d}{day:02d}{serial:03d}"
    return f"{born.year // 100:02d}{body}{luhn.calc_check_digit(body)}"


def _split(draw: st.DrawFn, digits: str, separators: str) -> str:
    """``digits`` with separators and letters mixed in between any of them."""
    pieces = []
    for index, digit in enumerate(digits):
        pieces.append(digit)
        if index == len(digits) - 1:
            break
        if draw(st.integers(0, 5)) == 0:
            pieces.append(draw(st.sampled_from(separators)))
        if draw(st.integers(0, 9)) == 0:
            pieces.append(draw(st.sampled_from(string.ascii_letters)))
    return "".join(pieces)


@st.composite
def hidden_identity_numbers(draw: st.DrawFn, *, code_shaped: bool = True) -> Hidden:
    """A number hidden in a text; ``code_shaped``: one a reference may otherwise hold
    (at most 64 characters of ``[A-Za-z0-9_.:/#-]``, a letter or digit first)."""
    number = draw(identity_numbers())
    separators = REFERENCE_SEPARATORS + ("" if code_shaped else OTHER_SEPARATORS)
    digits = number if draw(st.booleans()) else number[2:]
    style = draw(st.sampled_from(["plain", "usual", "split"]))
    if style == "usual":  # YYMMDD-NNNC, YYYYMMDD-NNNC, or '+' for a person aged 100+
        marker = "+" if not code_shaped and draw(st.booleans()) else "-"
        written = f"{digits[:-4]}{marker}{digits[-4:]}"
    elif style == "split":
        written = _split(draw, digits, separators)
    else:
        written = digits
    padding = "0" * draw(st.integers(0, 4))
    written = padding + written + "0" * draw(st.integers(0, 2))
    alphabet = string.ascii_letters + string.digits
    prefix = draw(st.text(alphabet, max_size=6))
    if prefix:
        prefix += draw(st.sampled_from(["", *separators]))
    suffix = draw(st.sampled_from(["", *separators])) + draw(st.text(alphabet, max_size=6))
    return Hidden(number, prefix + written + suffix)


@st.composite
def hidden_in_version_numbers(draw: st.DrawFn) -> Hidden:
    """A number written as a version number (``1977.0125.1618``): at most four groups of
    one to four digits, padded with zeros or not."""
    number = draw(identity_numbers())
    digits = number if draw(st.booleans()) else number[2:]
    digits = "0" * draw(st.integers(0, 16 - len(digits))) + digits
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), min_size=3, max_size=3)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    if any(len(group) > 4 for group in groups):
        groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return Hidden(number, ".".join(groups))
