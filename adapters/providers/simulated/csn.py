"""SIMULATED CSN base service (Centrala studiestödsnämnden): student grants and loans paid.

The payload mirrors CSN's ``kommunfraga`` answer ``CSNSvar`` (schema 4.0), flattened
one level: ``GemensamtSvarEkbistand/Resultat/ResultatKod``, ``Personer/Person`` with
the attributes ``personnummer`` (10 digits), ``sekel``, ``Status`` and ``sekretess``, and
per ``Arende`` (``stodform``) an ``UtbetalningsPlan`` of ``Utbetalning``s with ``utbetdatum``
(``YYYYMMDD``), ``startvecka``/``slutvecka`` (``YYYYWW``) and ``Beloppen`` by ``beloppstyp``.
``ResultatKod`` ``0`` is an answer; any other code is a failure CSN reports.
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
    compact_date,
    iso_week,
    malformed,
    same_subject,
    structure,
)
from application.ports import BaseServiceReportedError
from domain.identity import PersonalIdentityNumber
from domain.provider_data import CsnRecord, StudentFinancePayment
from domain.providers import Provider
from domain.query.values import Period

PROVIDER: Final = Provider.CSN
_ANSWERED: Final = ("0", "Allt OK, inget att rapportera")
_FAILURES: Final = (
    ("2", "Tekniskt fel, försök igen senare"),
    ("5", "Tjänsten är stängd för underhåll"),
)
_LOANS: Final = frozenset({"GRUNDL", "GRUNFL", "MERKL", "TILL", "HUT", "OSSLÅN"})
_TERM_MONTHS: Final = {"VT": (1, 2, 3, 4, 5), "HT": (8, 9, 10, 11, 12)}
_SUPPORT_KINDS: Final = {"studiemedel": "GRUND", "studiehjalp": "SB", "hemutrustningslan": "HUT"}


# --- The wire classes (CSN ``CSNSvar``) -----------------------------------------------


@attrs.frozen
class _Resultat:
    ResultatKod: str
    ResultatText: str


@attrs.frozen
class _GemensamtSvar:
    Resultat: _Resultat


@attrs.frozen
class _Belopp:
    beloppstyp: str
    klartext: str
    belopp: Decimal


@attrs.frozen
class _Beloppen:
    Belopp: tuple[_Belopp, ...] = ()


@attrs.frozen
class _Utbetalning:
    utbetdatum: dt.date
    utbetstatus: str
    startvecka: str
    slutvecka: str
    Beloppen: _Beloppen


@attrs.frozen
class _UtbetalningsPlan:
    Utbetalning: tuple[_Utbetalning, ...] = ()


@attrs.frozen
class _Arende:
    stodform: str
    klartext: str
    UtbetalningsPlan: _UtbetalningsPlan


@attrs.frozen
class _Arenden:
    Arende: tuple[_Arende, ...] = ()


@attrs.frozen
class _Person:
    personnummer: str
    sekel: str
    sekretess: str = ""
    Arenden: _Arenden = _Arenden()


@attrs.frozen
class _Personer:
    Person: tuple[_Person, ...] = ()


@attrs.frozen
class _CsnSvar:
    schemaVersion: str
    GemensamtSvarEkbistand: _GemensamtSvar
    Personer: _Personer


# --- The simulated answer -------------------------------------------------------------


def _payment(source: random.Random, paid: dt.date, young: bool, pace: int, loan: bool) -> Payload:
    year, first = paid.year, paid.replace(day=1)
    index = 1 + 0.02 * (year - 2024)
    if young:
        amounts = [("STUDB", "Studiebidrag", round(1250 * index))]
    else:
        amounts = [("GRUNDB", "Bidrag", round(3616 * index * pace / 100))]
        if loan:
            amounts.append(("GRUNDL", "Lån", round(8060 * index * pace / 100)))
    if source.random() < 0.1:
        amounts = [(kind, text, round(amount * 0.5)) for kind, text, amount in amounts]
    return {
        "utbetdatum": compact_date(paid),
        "utbetstatus": "Utbetald",
        "startvecka": iso_week(first),
        "slutvecka": iso_week(first + dt.timedelta(days=27)),
        "Beloppen": {
            "Belopp": [
                {"beloppstyp": kind, "klartext": text, "belopp": str(amount)}
                for kind, text, amount in amounts
            ]
        },
        "totbelopp": str(sum(amount for _, _, amount in amounts)),
    }


def _cases(subject: PersonalIdentityNumber, period: Period) -> list[Payload]:
    source = rules.rng(PROVIDER.value, subject.digits)
    pace, loan = source.choice((100, 100, 75, 50)), source.random() < 0.7
    plans: dict[tuple[str, str], list[Payload]] = {}
    for year, month in rules.months(period.start, period.end):
        term = "VT" if month <= 6 else "HT"
        if month not in _TERM_MONTHS[term]:
            continue
        term_start = dt.date(year, _TERM_MONTHS[term][0], 15)
        age = rules.age_on(subject, term_start)
        paid = rules.weekday_on_or_before(dt.date(year, month, 25))
        studies = rules.fraction(PROVIDER.value, subject.digits, year, term) < 0.75
        if not (studies and 16 <= age <= 60 and rules.within(paid, period)):
            continue
        young = age < 20
        form = ("SB", "Studiebidrag") if young else ("GRUND", "Studiemedel för studier i Sverige")
        source_of_month = rules.rng(PROVIDER.value, subject.digits, year, month)
        plans.setdefault(form, []).append(_payment(source_of_month, paid, young, pace, loan))
    return [
        {
            "lopnummer": str(number),
            "stodform": form,
            "klartext": text,
            "status": "BESLUTAD",
            "UtbetalningsPlan": {"Utbetalning": payments},
        }
        for number, ((form, text), payments) in enumerate(plans.items(), start=1)
    ]


def answer(subject: PersonalIdentityNumber, period: Period) -> Payload:
    """CSN's ``CSNSvar`` about ``subject`` for ``period``."""
    known = rules.simulates_data_for(subject, PROVIDER)
    cases = _cases(subject, period) if known else []
    forms = {case["stodform"] for case in cases}
    person: Payload = {
        "personnummer": subject.digits[2:],
        "sekel": subject.digits[:2],
        "Status": " " * 10 if known else "Ej träff",
        "sekretess": "J " if rules.simulates_protected_identity(subject) else "  ",
        "Studiestodstypforteckning": {
            kind: "1" if form in forms else "0" for kind, form in _SUPPORT_KINDS.items()
        },
        "Arenden": {"Arende": cases},
    }
    code, text = _ANSWERED
    return {
        "schemaVersion": "4.0",
        "GemensamtSvarEkbistand": {"Resultat": {"ResultatKod": code, "ResultatText": text}},
        "Personer": {"Person": [person]},
    }


def failure(source: random.Random) -> Payload:
    """A ``CSNSvar`` whose ``ResultatKod`` says CSN could not answer."""
    code, text = source.choice(_FAILURES)
    return {
        "schemaVersion": "4.0",
        "GemensamtSvarEkbistand": {"Resultat": {"ResultatKod": code, "ResultatText": text}},
        "Personer": {},
    }


# --- The adapter step -----------------------------------------------------------------


def _week(provider_week: str, weekday: int) -> dt.date:
    if len(provider_week) != 6 or not provider_week.isdigit():
        raise malformed(PROVIDER, "a week that is not YYYYWW")
    try:
        return dt.date.fromisocalendar(int(provider_week[:4]), int(provider_week[4:]), weekday)
    except ValueError:
        raise malformed(PROVIDER, "a week that does not exist") from None


def _student_finance_payment(case: _Arende, payment: _Utbetalning) -> StudentFinancePayment:
    amounts = payment.Beloppen.Belopp
    return StudentFinancePayment(
        support_form=case.stodform,
        description=case.klartext,
        payment_date=payment.utbetdatum,
        status=payment.utbetstatus,
        covers_from=_week(payment.startvecka, 1),
        covers_to=_week(payment.slutvecka, 7),
        grant_amount=sum((a.belopp for a in amounts if a.beloppstyp not in _LOANS), Decimal(0)),
        loan_amount=sum((a.belopp for a in amounts if a.beloppstyp in _LOANS), Decimal(0)),
    )


def interpret(payload: object, subject: PersonalIdentityNumber) -> CsnRecord:
    svar = structure(PROVIDER, payload, _CsnSvar)
    result = svar.GemensamtSvarEkbistand.Resultat
    if result.ResultatKod.strip() != _ANSWERED[0]:
        raise BaseServiceReportedError(result.ResultatKod.strip(), result.ResultatText)
    if len(svar.Personer.Person) != 1:
        raise malformed(PROVIDER, "an answer that is not about exactly one person")
    person = svar.Personer.Person[0]
    same_subject(PROVIDER, person.sekel + person.personnummer, subject)
    return CsnRecord(
        protected_identity=bool(person.sekretess.strip()),
        payments=tuple(
            _student_finance_payment(case, payment)
            for case in person.Arenden.Arende
            for payment in case.UtbetalningsPlan.Utbetalning
        ),
    )


SIMULATION: Final = ProviderSimulation(
    provider=PROVIDER,
    answer=answer,
    failure=failure,
    interpret=interpret,
    essential_keys=("GemensamtSvarEkbistand", "Personer"),
)
