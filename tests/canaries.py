"""Canary values: unique, valid, recognisable personal data to hunt for in stored bytes."""

from __future__ import annotations

import random
import uuid

from stdnum import luhn


def personnummer(rng: random.Random, *, coordination: bool = False) -> str:
    """A valid 12-digit personnummer (or samordningsnummer) nobody else will use in a run."""
    year = rng.randint(1940, 2005)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28) + (60 if coordination else 0)
    serial = rng.randint(100, 999)
    body = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    return f"{year // 100:02d}{body}{luhn.calc_check_digit(body)}"


def forms(number: str) -> list[str]:
    """Every way a 12-digit number could be written down: 12 and 10 digits, with or without '-'."""
    short = number[2:]
    return [number, short, f"{number[:8]}-{number[8:]}", f"{short[:6]}-{short[6:]}"]


def text(label: str) -> str:
    return f"CANARY{label}{uuid.uuid4().hex[:12].upper()}"
