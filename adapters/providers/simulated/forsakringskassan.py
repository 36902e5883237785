"""SIMULATED Försäkringskassan base service: benefits and allowances, amounts and dates.

The payload mirrors FK's Lefi answer (``LefiExternFormansinformationSvar``, JSON):
``utlamnare`` with FK's ``tillstand``, and ``formansinformation`` with
``generellPersoninformation`` (``skyddad``) and ``utbetalningsuppgift``: per payment the
``formansfamilj``, ``datum``, ``period`` (``fran``/``till``) and ``bruttobelopp``,
``skattebelopp``, ``avdragsbelopp`` and ``nettobelopp`` as ``{summa, valuta}`` (JSON numbers).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Final

import attrs

from adapters.providers.simulated import _lefi, rules
from adapters.providers.simulated._kit import Payload, ProviderSimulation, iso, malformed, structure
from domain.identity import PersonalIdentityNumber
from domain.provider_data import BenefitPayment, ForsakringskassanRecord
from domain.providers import Provider
from domain.query.values import Period

PROVIDER: Final = Provider.FORSAKRINGSKASSAN


@attrs.frozen
class _Family:
    code: str
    name: str
    taxed: bool
    in_arrears: bool  # paid for the month before
    low: int
    high: int
    monthly_share: float
    ages: tuple[int, int]  # paid to those of these ages only


_FAMILIES: Final = (
    _Family("BOB", "Bostadsbidrag", False, False, 900, 4500, 0.92, (18, 120)),
    _Family("ABB", "Allmänt barnbidrag", False, False, 1250, 3750, 0.98, (18, 60)),
    _Family("US", "Underhållsstöd", False, False, 1673, 3346, 0.95, (18, 60)),
    _Family("SJP", "Sjukpenning", True, True, 8000, 26000, 0.40, (18, 66)),
    _Family("FP", "Föräldrapenning", True, True, 6000, 28000, 0.35, (18, 50)),
    _Family("AS", "Aktivitetsstöd", True, True, 5000, 14000, 0.60, (18, 66)),
    _Family("SA", "Sjuk- och aktivitetsersättning", True, False, 9000, 19000, 0.98, (19, 65)),
)


# --- The wire classes (Lefi ``LefiExternFormansinformationSvar``) -----------------------


@attrs.frozen
class _Belopp:
    summa: Decimal
    valuta: str


@attrs.frozen
class _Bokstavskod:
    id: str
    beskrivning: str = ""


@attrs.frozen
class _FranTill:
    fran: dt.date
    till: dt.date


@attrs.frozen
class _Utbetalningsuppgift:
    formansfamilj: _Bokstavskod
    datum: dt.date
    period: _FranTill
    bruttobelopp: _Belopp
    skattebelopp: _Belopp
    nettobelopp: _Belopp


@attrs.frozen
class _Formansinformation:
    generellPersoninformation: tuple[_lefi.Personinformation, ...] = ()
    utbetalningsuppgift: tuple[_Utbetalningsuppgift, ...] = ()


@attrs.frozen
class _Svar:
    utlamnare: tuple[_lefi.UtlamnareTillstand, ...]
    formansinformation: _Formansinformation | None = None


# --- The simulated answer -------------------------------------------------------------


def _amount(summa: float) -> Payload:
    return {"summa": summa, "valuta": "SEK"}


def _payment(source: random.Random, family: _Family, base: int, year: int, month: int) -> Payload:
    covered = (year, month - 1) if month > 1 else (year - 1, 12)
    covered = covered if family.in_arrears else (year, month)
    gross = base if family.code == "ABB" else round(base * source.uniform(0.95, 1.05))
    tax = round(gross * 0.30) if family.taxed else 0
    return {
        "typ": {"id": 1, "beskrivning": "Månad"},
        "foretag": {"id": 1001, "beskrivning": "Försäkringskassan"},
        "formansfamilj": {"id": family.code, "beskrivning": family.name},
        "datum": iso(
            rules.weekday_on_or_before(dt.date(year, month, 20 if family.code == "ABB" else 25))
        ),
        "period": {"fran": iso(dt.date(*covered, 1)), "till": iso(rules.last_day_of(*covered))},
        "bruttobelopp": _amount(float(gross)),
        "skattebelopp": _amount(float(tax)),
        "avdragsbelopp": _amount(float(tax)),
        "nettobelopp": _amount(float(gross - tax)),
    }


def _payments(subject: PersonalIdentityNumber, period: Period) -> list[Payload]:
    source = rules.rng(PROVIDER.value, subject.digits)
    families = source.sample(_FAMILIES, k=source.choice((1, 1, 2)))
    bases = {
        family.code: 1250 * source.randint(1, 3)
        if family.code == "ABB"
        else source.randint(family.low, family.high)
        for family in families
    }
    payments = []
    for year, month in rules.months(period.start, period.end):
        age = rules.age_on(subject, dt.date(year, month, 1))
        for family in families:
            paid = rules.fraction(PROVIDER.value, subject.digits, family.code, year, month)
            if paid >= family.monthly_share or not family.ages[0] <= age <= family.ages[1]:
                continue
            month_source = rules.rng(PROVIDER.value, subject.digits, family.code, year, month)
            payment = _payment(month_source, family, bases[family.code], year, month)
            if rules.within(dt.date.fromisoformat(payment["datum"]), period):
                payments.append(payment)
    return payments


def answer(subject: PersonalIdentityNumber, period: Period) -> Payload:
    """FK's Lefi answer about ``subject`` for ``period``."""
    known = rules.simulates_data_for(subject, PROVIDER)
    return {
        "utlamnare": _lefi.state(PROVIDER),
        "formansinformation": {
            "generellPersoninformation": _lefi.person(subject, known),
            "utbetalningsuppgift": _payments(subject, period) if known else [],
        },
    }


def failure(source: random.Random) -> Payload:
    return _lefi.failure(PROVIDER, source)


# --- The adapter step -----------------------------------------------------------------


def _sek(amount: _Belopp) -> Decimal:
    if amount.valuta != "SEK":
        raise malformed(PROVIDER, "an amount in a currency other than SEK")
    return amount.summa


def interpret(payload: object, subject: PersonalIdentityNumber) -> ForsakringskassanRecord:
    svar = structure(PROVIDER, payload, _Svar)
    _lefi.check_state(PROVIDER, svar.utlamnare)
    if svar.formansinformation is None:
        raise malformed(PROVIDER, "an answer without formansinformation")
    info = svar.formansinformation
    return ForsakringskassanRecord(
        protected_identity=_lefi.protected(PROVIDER, info.generellPersoninformation, subject),
        payments=tuple(
            BenefitPayment(
                benefit_code=payment.formansfamilj.id,
                benefit_name=payment.formansfamilj.beskrivning,
                payment_date=payment.datum,
                covers_from=payment.period.fran,
                covers_to=payment.period.till,
                gross_amount=_sek(payment.bruttobelopp),
                tax_amount=_sek(payment.skattebelopp),
                net_amount=_sek(payment.nettobelopp),
            )
            for payment in info.utbetalningsuppgift
        ),
    )


SIMULATION: Final = ProviderSimulation(
    provider=PROVIDER,
    answer=answer,
    failure=failure,
    interpret=interpret,
    essential_keys=("utlamnare", "formansinformation"),
)
