"""SIMULATED Pensionsmyndigheten base service: pensions and pension-related benefits paid.

In v10 PM's data arrives inside FK's Lefi answer, in PM's own information model; the
simulation answers as PM alone: ``utlamnare`` with PM's ``tillstand``,
``formansinformation/generellPersoninformation`` (``skyddad``) and ``utbetalningar``
(``LefiPmFormanUtbetalning``): ``utbetalningsdatum``, ``utbetalningsperiod``
(``from``/``tom``), ``bruttobelopp``, ``nettobelopp`` (whole kronor), ``utbetalningsrader``
by ``formansgrupp`` and ``avdrag`` by ``avdragstyp``.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Final

import attrs

from adapters.providers.simulated import _lefi, rules
from adapters.providers.simulated._kit import (
    Payload,
    ProviderSimulation,
    iso,
    malformed,
    register_renamed,
    structure,
)
from domain.identity import PersonalIdentityNumber
from domain.provider_data import PensionAmount, PensionPayment, PensionsmyndighetenRecord
from domain.providers import Provider
from domain.query.values import Period

PROVIDER: Final = Provider.PENSIONSMYNDIGHETEN
_OLD_AGE: Final = {"kod": "PM:AP", "beskrivning": "Allmän pension"}
_HOUSING: Final = {"kod": "PM:BTI", "beskrivning": "Bostadstillägg"}
_SURVIVOR: Final = {"kod": "PM:EF", "beskrivning": "Efterlevandeförmåner"}
_TAX: Final = {"kod": "PM:PS", "beskrivning": "Preliminär skatt"}


# --- The wire classes (``LefiPmFormanUtbetalning``) -----------------------------------


@attrs.frozen
class _Kod:
    kod: str
    beskrivning: str


@attrs.frozen
class _Period:
    from_: dt.date  # ``from`` on the wire (a Python keyword): renamed below
    tom: dt.date


register_renamed(_Period, "from_", "from")


@attrs.frozen
class _Rad:
    formansgrupp: _Kod
    belopp: Decimal


@attrs.frozen
class _Avdrag:
    avdragstyp: _Kod
    belopp: Decimal


@attrs.frozen
class _Utbetalning:
    utbetalningsdatum: dt.date
    utbetalningsperiod: _Period
    bruttobelopp: Decimal
    nettobelopp: Decimal
    utbetalningsrader: tuple[_Rad, ...] = ()
    avdrag: tuple[_Avdrag, ...] = ()


@attrs.frozen
class _Formansinformation:
    generellPersoninformation: tuple[_lefi.Personinformation, ...] = ()


@attrs.frozen
class _Svar:
    utlamnare: tuple[_lefi.UtlamnareTillstand, ...]
    formansinformation: _Formansinformation = _Formansinformation()
    utbetalningar: tuple[_Utbetalning, ...] | None = None


# --- The simulated answer -------------------------------------------------------------


def _rows(subject: PersonalIdentityNumber, year: int, month: int) -> list[tuple[Payload, int]]:
    """The benefits paid to the subject for a month, as (formansgrupp, gross kronor)."""
    source = rules.rng(PROVIDER.value, subject.digits)
    base, housing = source.randint(9000, 22000), source.randint(1500, 6000)
    gets_housing, survivor_start = source.random() < 0.2, source.randint(2012, 2026)
    index = 1 + 0.03 * (year - 2024)
    born = subject.birth_date
    if (year, month) > (born.year + 65, born.month):
        rows = [(_OLD_AGE, round(base * index))]
        return [*rows, (_HOUSING, round(housing * index))] if gets_housing else rows
    if born.year > 1961 and survivor_start <= year <= survivor_start + 1:
        return [(_SURVIVOR, round(base * 0.6 * index))]
    return []


def _payments(subject: PersonalIdentityNumber, period: Period) -> list[Payload]:
    tax_rate = rules.rng(PROVIDER.value, subject.digits, "tax").uniform(0.18, 0.27)
    payments = []
    for year, month in rules.months(period.start, period.end):
        paid = rules.weekday_on_or_before(dt.date(year, month, 18))
        rows = _rows(subject, year, month)
        if not rows or not rules.within(paid, period):
            continue
        gross = sum(amount for _, amount in rows)
        taxable = sum(amount for row, amount in rows if row is not _HOUSING)
        tax = round(taxable * tax_rate)
        payments.append(
            {
                "utbetalningsdatum": iso(paid),
                "utbetalningsperiod": {
                    "from": iso(dt.date(year, month, 1)),
                    "tom": iso(rules.last_day_of(year, month)),
                },
                "bruttobelopp": gross,
                "nettobelopp": gross - tax,
                "avdrag": [{"belopp": tax, "avdragstyp": _TAX}] if tax else [],
                "utbetalningsrader": [
                    {"formansgrupp": row, "belopp": amount} for row, amount in rows
                ],
            }
        )
    return payments


def answer(subject: PersonalIdentityNumber, period: Period) -> Payload:
    """PM's answer (Lefi, PM information model) about ``subject`` for ``period``."""
    known = rules.simulates_data_for(subject, PROVIDER)
    return {
        "utlamnare": _lefi.state(PROVIDER),
        "formansinformation": {"generellPersoninformation": _lefi.person(subject, known)},
        "utbetalningar": _payments(subject, period) if known else [],
    }


def failure(source: random.Random) -> Payload:
    return _lefi.failure(PROVIDER, source)


# --- The adapter step -----------------------------------------------------------------


def _amount(row: _Rad | _Avdrag) -> PensionAmount:
    kind = row.formansgrupp if isinstance(row, _Rad) else row.avdragstyp
    return PensionAmount(code=kind.kod, description=kind.beskrivning, amount=row.belopp)


def interpret(payload: object, subject: PersonalIdentityNumber) -> PensionsmyndighetenRecord:
    svar = structure(PROVIDER, payload, _Svar)
    _lefi.check_state(PROVIDER, svar.utlamnare)
    if svar.utbetalningar is None:
        raise malformed(PROVIDER, "an answer without utbetalningar")
    people = svar.formansinformation.generellPersoninformation
    return PensionsmyndighetenRecord(
        protected_identity=_lefi.protected(PROVIDER, people, subject),
        payments=tuple(
            PensionPayment(
                payment_date=payment.utbetalningsdatum,
                covers_from=payment.utbetalningsperiod.from_,
                covers_to=payment.utbetalningsperiod.tom,
                gross_amount=payment.bruttobelopp,
                net_amount=payment.nettobelopp,
                benefits=tuple(_amount(row) for row in payment.utbetalningsrader),
                deductions=tuple(_amount(row) for row in payment.avdrag),
            )
            for payment in svar.utbetalningar
        ),
    )


SIMULATION: Final = ProviderSimulation(
    provider=PROVIDER,
    answer=answer,
    failure=failure,
    interpret=interpret,
    essential_keys=("utlamnare", "utbetalningar"),
)
