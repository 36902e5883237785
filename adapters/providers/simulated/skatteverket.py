"""SIMULATED Skatteverket base service: taxed income and capital income per taxation year.

The payload mirrors ``SvarBeskattningsuppgifterEnligtSFS2008-975`` (the XML document
inside ``BeskattningsuppgifterResponse/svar``): ``PersonuppgiftLista/Personuppgift`` with
``IdentitetsbeteckningFysiskPerson``, ``StatusPersonuppgiftKod``, ``Sekretessmarkering``
(``J``/``N``), and per ``Taxeringsar`` an ``Inkomstuppgift`` (``SammanraknadForvarvsinkomst``,
``InkomstAvNaringsverksamhet``, ``SlutligSkatt``) and a ``Kapitaluppgift``
(``SummaIntakterPaKapital``, ``OverskottPaKapital``, ``UnderskottPaKapital``), whole kronor.
A failure is the service's SOAP ``Exception`` with a ``MeddelandeKod`` (9071000-9071999).
The v10 example answer has no ``Sekretessmarkering``; the simulation adds it, since
Skatteverket keeps the population register where a protected identity is recorded.

Taxation year Y concerns the income of year Y-1 and is decided in Y; the simulation
takes 1 August. A period gets every taxation year from the latest one decided at its
start to the latest one decided at its end.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Final

import attrs

from adapters.providers.simulated import rules
from adapters.providers.simulated._kit import (
    Payload,
    ProviderSimulation,
    malformed,
    same_subject,
    structure,
)
from application.ports import BaseServiceReportedError
from domain.identity import PersonalIdentityNumber
from domain.provider_data import CapitalIncome, EarnedIncome, SkatteverketRecord
from domain.providers import Provider
from domain.query.values import Period

PROVIDER: Final = Provider.SKATTEVERKET
_FAILURES: Final = (
    ("9071001", "Tekniskt fel. Försök igen senare."),
    ("9071017", "Tjänsten är inte tillgänglig på grund av underhåll."),
)
_PROTECTED: Final = {"J": True, "N": False}


# --- The wire classes -----------------------------------------------------------------


@attrs.frozen
class _Inkomstuppgift:
    Taxeringsar: int
    SammanraknadForvarvsinkomst: Decimal
    InkomstAvNaringsverksamhet: Decimal
    SlutligSkatt: Decimal


@attrs.frozen
class _Kapitaluppgift:
    Taxeringsar: int
    SummaIntakterPaKapital: Decimal
    OverskottPaKapital: Decimal
    UnderskottPaKapital: Decimal


@attrs.frozen
class _Personuppgift:
    IdentitetsbeteckningFysiskPerson: str
    StatusPersonuppgiftKod: str
    Sekretessmarkering: str = "N"
    Inkomstuppgift: tuple[_Inkomstuppgift, ...] = ()
    Kapitaluppgift: tuple[_Kapitaluppgift, ...] = ()


@attrs.frozen
class _Lista:
    Personuppgift: tuple[_Personuppgift, ...] = ()


@attrs.frozen
class _Svar:
    PersonuppgiftLista: _Lista


@attrs.frozen
class _Exception:
    MeddelandeKod: str
    MeddelandeText: str


@attrs.frozen
class _Fault:
    Exception: _Exception


# --- The simulated answer -------------------------------------------------------------


def _latest_decided(day: dt.date) -> int:
    return day.year if day >= dt.date(day.year, 8, 1) else day.year - 1


def _hundreds(amount: float) -> int:
    return int(round(amount / 100) * 100)


def _year(subject: PersonalIdentityNumber, year: int) -> tuple[Payload, Payload]:
    person = rules.rng(PROVIDER.value, subject.digits)
    level, business_level = person.randint(180_000, 650_000), person.randint(20_000, 300_000)
    has_business, has_loans = person.random() < 0.08, person.random() < 0.3
    source = rules.rng(PROVIDER.value, subject.digits, year)
    employed = source.random() < 0.85
    earned = (
        _hundreds(level * (1 + 0.03 * (year - 2024)) * source.uniform(0.85, 1.1))
        if employed
        else _hundreds(source.uniform(0, 120_000))
    )
    business = _hundreds(business_level * source.uniform(0.5, 1.5)) if has_business else 0
    capital = source.randint(0, 5_000) if source.random() < 0.85 else source.randint(5_000, 200_000)
    costs = source.randint(2_000, 40_000) if has_loans else 0
    surplus, deficit = max(capital - costs, 0), max(costs - capital, 0)
    final_tax = round((earned + business) * 0.25 + surplus * 0.30 - deficit * 0.30)
    return (
        {
            "Taxeringsar": str(year),
            "SammanraknadForvarvsinkomst": str(earned),
            "InkomstAvNaringsverksamhet": str(business),
            "SlutligSkatt": str(max(final_tax, 0)),
        },
        {
            "Taxeringsar": str(year),
            "SummaIntakterPaKapital": str(capital),
            "OverskottPaKapital": str(surplus),
            "UnderskottPaKapital": str(deficit),
        },
    )


def answer(subject: PersonalIdentityNumber, period: Period) -> Payload:
    """Skatteverket's answer about ``subject`` for ``period``."""
    years = range(_latest_decided(period.start), _latest_decided(period.end) + 1)
    known = rules.simulates_data_for(subject, PROVIDER)
    assessed = [
        _year(subject, year) for year in years if known and year >= subject.birth_date.year + 17
    ]
    person: Payload = {
        "IdentitetsbeteckningFysiskPerson": subject.digits,
        "StatusPersonuppgiftKod": "0",
        "Sekretessmarkering": "J" if rules.simulates_protected_identity(subject) else "N",
        "Inkomstuppgift": [income for income, _ in assessed],
        "Kapitaluppgift": [capital for _, capital in assessed],
    }
    return {"PersonuppgiftLista": {"Personuppgift": [person]}}


def failure(source: random.Random) -> Payload:
    """The SOAP ``Exception`` of Skatteverket's service."""
    code, text = source.choice(_FAILURES)
    return {"Exception": {"MeddelandeKod": code, "MeddelandeText": text}}


# --- The adapter step -----------------------------------------------------------------


def interpret(payload: object, subject: PersonalIdentityNumber) -> SkatteverketRecord:
    if isinstance(payload, dict) and "Exception" in payload:
        fault = structure(PROVIDER, payload, _Fault).Exception
        raise BaseServiceReportedError(fault.MeddelandeKod, fault.MeddelandeText)
    people = structure(PROVIDER, payload, _Svar).PersonuppgiftLista.Personuppgift
    if len(people) != 1:
        raise malformed(PROVIDER, "an answer that is not about exactly one person")
    person = people[0]
    same_subject(PROVIDER, person.IdentitetsbeteckningFysiskPerson, subject)
    if person.Sekretessmarkering not in _PROTECTED:
        raise malformed(PROVIDER, "a Sekretessmarkering that is neither J nor N")
    return SkatteverketRecord(
        protected_identity=_PROTECTED[person.Sekretessmarkering],
        earned_income=tuple(
            EarnedIncome(
                taxation_year=year.Taxeringsar,
                earned_income=year.SammanraknadForvarvsinkomst,
                business_income=year.InkomstAvNaringsverksamhet,
                final_tax=year.SlutligSkatt,
            )
            for year in person.Inkomstuppgift
        ),
        capital_income=tuple(
            CapitalIncome(
                taxation_year=year.Taxeringsar,
                total_capital_income=year.SummaIntakterPaKapital,
                capital_surplus=year.OverskottPaKapital,
                capital_deficit=year.UnderskottPaKapital,
            )
            for year in person.Kapitaluppgift
        ),
    )


SIMULATION: Final = ProviderSimulation(
    provider=PROVIDER,
    answer=answer,
    failure=failure,
    interpret=interpret,
    essential_keys=("PersonuppgiftLista",),
)
