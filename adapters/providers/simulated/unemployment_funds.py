"""SIMULATED base service of Sveriges a-kassor (the unemployment funds): payments made.

The payload mirrors ``GetUnemploymentBenefitPaymentResponse`` of the funds' INT014
``UnemploymentBenefitPaymentService``: ``From``, ``Tom``, ``IdentificationNumber`` and an
``ArbetsloshetsersattningLista`` with one ``Arbetsloshetsersattning`` per answering fund
(``SvarandeOrganisation``) holding ``Utbetalningar`` with ``Utbetalningsdatum``,
``NettoEfterSkatt``, ``NettoEfterAvdrag``, ``Ersattningsdagar``, ``AvserFrom`` and ``AvserTom``.
A failure arrives as a SOAP ``Fault`` whose ``detail`` holds the service's ``Felkod``.
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
    iso,
    ore,
    same_subject,
    sek,
    structure,
)
from application.ports import BaseServiceReportedError
from domain.identity import PersonalIdentityNumber
from domain.provider_data import UnemploymentFundsRecord, UnemploymentPayment
from domain.providers import Provider
from domain.query.values import Period

PROVIDER: Final = Provider.UNEMPLOYMENT_FUNDS
_FAILURES: Final = (
    ("AK-101", "Ingen arbetslöshetskassa kunde nås. Försök igen senare."),
    ("AK-500", "Internt fel i förmedlingstjänsten för arbetslöshetskassorna."),
)
_FIRST_MONDAY: Final = dt.date(2000, 1, 3)
_BLOCK: Final = dt.timedelta(days=14)


# --- The wire classes (``GetUnemploymentBenefitPaymentResponse``) ---------------------


@attrs.frozen
class _Utbetalning:
    Utbetalningsdatum: dt.date
    NettoEfterSkatt: Decimal
    NettoEfterAvdrag: Decimal
    Ersattningsdagar: Decimal
    AvserFrom: dt.date
    AvserTom: dt.date


@attrs.frozen
class _Arbetsloshetsersattning:
    SvarandeOrganisation: str
    StatusSvarandeOrganisation: str
    Utbetalningar: tuple[_Utbetalning, ...] = ()


@attrs.frozen
class _Lista:
    Arbetsloshetsersattning: tuple[_Arbetsloshetsersattning, ...] = ()


@attrs.frozen
class _Response:
    From: dt.date
    Tom: dt.date
    IdentificationNumber: str
    ArbetsloshetsersattningLista: _Lista


@attrs.frozen
class _FaultDetail:
    Felkod: str


@attrs.frozen
class _Fault:
    faultcode: str
    faultstring: str
    detail: _FaultDetail


@attrs.frozen
class _FaultEnvelope:
    Fault: _Fault


# --- The simulated answer -------------------------------------------------------------


def _payment(source: random.Random, start: dt.date, daily: int, tax: float) -> Payload:
    """One payment for a fortnight of claimed days (kassakort), paid days after it."""
    days = Decimal(source.randint(2, 10))
    if days < 10 and source.random() < 0.1:
        days += Decimal("0.5")
    net = ore(float(days) * daily * (1 - tax))
    deduction = ore(source.uniform(300, 1500)) if source.random() < 0.05 else Decimal(0)
    end = start + _BLOCK - dt.timedelta(days=1)
    return {
        "Utbetalningsdatum": iso(end + dt.timedelta(days=source.randint(2, 8))),
        "NettoEfterSkatt": sek(net),
        "NettoEfterAvdrag": sek(max(net - deduction, Decimal(0))),
        "Ersattningsdagar": str(days),
        "AvserFrom": iso(start),
        "AvserTom": iso(end),
    }


def _payments(subject: PersonalIdentityNumber, period: Period) -> list[Payload]:
    source = rules.rng(PROVIDER.value, subject.digits)
    daily, tax = source.randint(510, 1200), source.uniform(0.28, 0.33)
    first_block = (period.start - dt.timedelta(days=28) - _FIRST_MONDAY).days // 14
    start = _FIRST_MONDAY + first_block * _BLOCK
    payments = []
    while start <= period.end:
        quarter = (start.month - 1) // 3 + 1
        unemployed = rules.fraction(PROVIDER.value, subject.digits, start.year, quarter) < 0.5
        if unemployed and 20 <= rules.age_on(subject, start) <= 64:
            source = rules.rng(PROVIDER.value, subject.digits, start.isoformat())
            payment = _payment(source, start, daily, tax)
            if rules.within(dt.date.fromisoformat(payment["Utbetalningsdatum"]), period):
                payments.append(payment)
        start += _BLOCK
    return payments


def answer(subject: PersonalIdentityNumber, period: Period) -> Payload:
    """The funds' ``GetUnemploymentBenefitPaymentResponse`` about ``subject`` for ``period``."""
    funds = []
    if rules.simulates_data_for(subject, PROVIDER):
        funds.append(
            {
                "SvarandeOrganisation": rules.unemployment_fund_of(subject),
                "StatusSvarandeOrganisation": "OK",
                "Utbetalningar": _payments(subject, period),
            }
        )
    return {
        "From": iso(period.start),
        "Tom": iso(period.end),
        "IdentificationNumber": subject.digits,
        "ArbetsloshetsersattningLista": {"Arbetsloshetsersattning": funds},
    }


def failure(source: random.Random) -> Payload:
    """A SOAP fault from the funds' service."""
    code, text = source.choice(_FAILURES)
    return {"Fault": {"faultcode": "soap:Server", "faultstring": text, "detail": {"Felkod": code}}}


# --- The adapter step -----------------------------------------------------------------


def interpret(payload: object, subject: PersonalIdentityNumber) -> UnemploymentFundsRecord:
    if isinstance(payload, dict) and "Fault" in payload:
        fault = structure(PROVIDER, payload, _FaultEnvelope).Fault
        raise BaseServiceReportedError(fault.detail.Felkod, fault.faultstring)
    response = structure(PROVIDER, payload, _Response)
    same_subject(PROVIDER, response.IdentificationNumber, subject)
    return UnemploymentFundsRecord(
        protected_identity=False,  # the funds' answer carries no such flag
        payments=tuple(
            UnemploymentPayment(
                fund=fund.SvarandeOrganisation,
                payment_date=payment.Utbetalningsdatum,
                covers_from=payment.AvserFrom,
                covers_to=payment.AvserTom,
                compensation_days=payment.Ersattningsdagar,
                net_after_tax=payment.NettoEfterSkatt,
                net_after_deductions=payment.NettoEfterAvdrag,
            )
            for fund in response.ArbetsloshetsersattningLista.Arbetsloshetsersattning
            for payment in fund.Utbetalningar
        ),
    )


SIMULATION: Final = ProviderSimulation(
    provider=PROVIDER,
    answer=answer,
    failure=failure,
    interpret=interpret,
    essential_keys=("IdentificationNumber", "ArbetsloshetsersattningLista"),
)
