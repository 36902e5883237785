"""SIMULATED data providers: the rules that decide what the simulation says about a subject.

Everything is derived from SHA-256 of the subject's 12 digits and the provider's name,
never from Python's salted ``hash()``: the same subject gets the same data in every
process, on every machine, in every run. The rules are listed in the package docstring
of ``adapters.providers.simulated``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from typing import Final

from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.values import Period

PROTECTED_IDENTITY_SHARE: Final = 0.05
"""About one subject in twenty has a protected identity."""

PROVIDERS_FLAGGING_PROTECTED_IDENTITY: Final = frozenset(
    {
        Provider.ARBETSFORMEDLINGEN,  # Sekretessmarkering
        Provider.CSN,  # sekretess
        Provider.FORSAKRINGSKASSAN,  # Lefi skyddad
        Provider.PENSIONSMYNDIGHETEN,  # Lefi skyddad
        Provider.SKATTEVERKET,  # Sekretessmarkering
    }
)
"""The providers whose answers carry a protected-identity flag; the others never flag."""

UNEMPLOYMENT_FUNDS: Final = (
    "Akademikernas a-kassa",
    "Unionens arbetslöshetskassa",
    "Kommunals arbetslöshetskassa",
    "Handelsanställdas arbetslöshetskassa",
    "IF Metalls arbetslöshetskassa",
    "Arbetslöshetskassan Alfa",
    "Byggnadsarbetarnas arbetslöshetskassa",
    "Vision arbetslöshetskassa",
)

_DOMAIN_TAG: Final = "ssbtek-simulated-provider"


def _digest(parts: tuple[object, ...]) -> bytes:
    text = "\x1f".join((_DOMAIN_TAG, *(str(part) for part in parts)))
    return hashlib.sha256(text.encode("utf-8")).digest()


def fraction(*parts: object) -> float:
    """A number in [0, 1) that depends only on ``parts``: the simulation's coin."""
    return int.from_bytes(_digest(parts)[:8], "big") / 2**64


def rng(*parts: object) -> random.Random:
    """A random generator seeded only by ``parts`` (reproducible everywhere)."""
    return random.Random(int.from_bytes(_digest(parts)[:16], "big"))  # noqa: S311 (simulation)


def simulates_protected_identity(subject: PersonalIdentityNumber) -> bool:
    """True when the simulation gives ``subject`` a protected identity (about 5 %).

    Every provider in ``PROVIDERS_FLAGGING_PROTECTED_IDENTITY`` then flags the subject,
    whether or not it holds any other data about them.
    """
    return fraction("protected-identity", subject.digits) < PROTECTED_IDENTITY_SHARE


def _known_share(subject: PersonalIdentityNumber, provider: Provider) -> float:
    born = subject.birth_date.year
    adult = born <= 2007
    match provider:
        case Provider.ARBETSFORMEDLINGEN:
            return 0.35 if 1955 <= born <= 2008 else 0.0
        case Provider.CSN:
            return 0.30 if born >= 1965 else 0.03
        case Provider.FORSAKRINGSKASSAN:
            return 0.60
        case Provider.MIGRATIONSVERKET:
            return 0.85 if subject.is_coordination_number else 0.08
        case Provider.PENSIONSMYNDIGHETEN:
            return 0.92 if born <= 1961 else 0.04
        case Provider.SKATTEVERKET:
            return 0.93 if adult else 0.10
        case Provider.UNEMPLOYMENT_FUNDS:
            return 0.25 if 1955 <= born <= 2006 else 0.0
        case Provider.TRANSPORTSTYRELSEN:
            return 0.45 if adult else 0.0


SIMULATED_YEARS: Final = Period(dt.date(1850, 1, 1), dt.date(2199, 12, 31))
"""The days the simulated providers keep records of: from the earliest date of birth an
identity number may hold (1850) to the end of 2199. Their date arithmetic (a month's
last day, a permit's validity, a fortnight's payment) then never leaves the calendar,
which ends on 31 December 9999 (``ValueError``, ``OverflowError``)."""


def within_simulated_years(period: Period) -> Period:
    """``period`` cut to ``SIMULATED_YEARS``; wholly outside them, the nearest end day of
    them (where, as outside, the providers have recorded nothing that falls in it)."""
    first, last = SIMULATED_YEARS.start, SIMULATED_YEARS.end
    start = min(max(period.start, first), last)
    return Period(start, max(min(period.end, last), start))


def simulates_data_for(subject: PersonalIdentityNumber, provider: Provider) -> bool:
    """True when ``provider`` holds data about ``subject`` in the simulation.

    A provider that does not hold the subject answers with an empty record for every
    period. One that does may still have nothing for a given period (no payment fell in
    it, the permit had expired), so its record can be empty too. Nobody born after
    ``SIMULATED_YEARS`` is known to any provider.
    """
    if subject.birth_date > SIMULATED_YEARS.end:
        return False
    return fraction("known", provider.value, subject.digits) < _known_share(subject, provider)


def unemployment_fund_of(subject: PersonalIdentityNumber) -> str:
    """The unemployment fund the subject belongs to (the same for AF and the a-kassor)."""
    return rng("unemployment-fund", subject.digits).choice(UNEMPLOYMENT_FUNDS)


def age_on(subject: PersonalIdentityNumber, day: dt.date) -> int:
    born = subject.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def months(start: dt.date, end: dt.date) -> Iterator[tuple[int, int]]:
    """Every (year, month) from ``start``'s month to ``end``'s month, both included."""
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def last_day_of(year: int, month: int) -> dt.date:
    """The month's last day, found without stepping into the next month (which, after
    December 9999, does not exist: Pensionsmyndigheten raised ``ValueError`` on it)."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def weekday_on_or_before(day: dt.date) -> dt.date:
    """Payments due on a Saturday or Sunday are made on the Friday before."""
    return day - dt.timedelta(days=max(0, day.weekday() - 4))


def within(day: dt.date, period: Period) -> bool:
    return period.start <= day <= period.end


def random_date(source: random.Random, first: dt.date, last: dt.date) -> dt.date:
    """A date drawn from ``first`` to ``last`` (``first`` when the range is empty)."""
    span = (last - first).days
    return first + dt.timedelta(days=source.randint(0, span) if span > 0 else 0)
