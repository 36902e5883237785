"""SIMULATED Migrationsverket base service: granted and revoked residence and work permits.

The payload mirrors ``findByPersonnummerResponse/response`` of Migrationsverket's
``SSBTEKWebService``: ``correlationid``, ``personnummer``, ``hemland``, ``inresedatum`` and a
``svarCollection`` of ``svar`` with ``arendeTyp``, ``beslutsKod``, ``beslutsTyp`` (with their
``...Namn``), ``ansokningsdatum``, ``beslutsdatum``, ``fromDatum``, ``tomDatum`` and
``giltighetstid`` (``PERMANENT``/``TIDBEGRANSAT``), dates as ``xs:date`` with zone. v10 has
no field for a revocation; the simulation adds ``aterkallelsedatum`` (the seeds ask for
revocation dates). A failure is the service's ``SSBTEKSoapException``.

A period gets the permits decided by its end that were still in force at its start.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Final

import attrs

from adapters.providers.simulated import rules
from adapters.providers.simulated._kit import (
    Payload,
    ProviderSimulation,
    same_subject,
    structure,
    xml_date,
)
from application.ports import BaseServiceReportedError
from domain.identity import PersonalIdentityNumber
from domain.provider_data import MigrationsverketRecord, Permit
from domain.providers import Provider
from domain.query.values import Period

PROVIDER: Final = Provider.MIGRATIONSVERKET
_FAILURES: Final = (
    ("SSBTEK-001", "Tekniskt fel i Migrationsverkets tjänst."),
    ("SSBTEK-002", "Migrationsverkets ärendesystem svarar inte."),
)
_COUNTRIES: Final = (
    "SYRIEN",
    "AFGHANISTAN",
    "ERITREA",
    "IRAK",
    "INDIEN",
    "UKRAINA",
    "SOMALIA",
    "IRAN",
    "TURKIET",
    "THAILAND",
    "POLEN",
    "KINA",
)
_CASES: Final = {
    "UAT": "UPPEHÅLLS- OCH ARBETSTILLSTÅND",
    "AT": "ARBETSTILLSTÅND",
    "UT": "UPPEHÅLLSTILLSTÅND",
}
_KINDS: Final = {
    "PUT": "PERMANENT UPPEHÅLLSTILLSTÅND",
    "TUT": "TIDSBEGRÄNSAT UPPEHÅLLSTILLSTÅND",
    "AT": "ARBETSTILLSTÅND",
}


# --- The wire classes (``fkResponse``) ------------------------------------------------


@attrs.frozen
class _Svar:
    arendeTyp: str
    arendeTypNamn: str
    beslutsKod: str
    beslutsKodNamn: str
    beslutsTyp: str
    beslutsTypNamn: str
    beslutsdatum: dt.date
    giltighetstid: str
    ansokningsdatum: dt.date | None = None
    fromDatum: dt.date | None = None
    tomDatum: dt.date | None = None
    aterkallelsedatum: dt.date | None = None


@attrs.frozen
class _SvarCollection:
    svar: tuple[_Svar, ...] = ()


@attrs.frozen
class _Response:
    correlationid: str
    personnummer: str
    hemland: str | None = None
    inresedatum: dt.date | None = None
    svarCollection: _SvarCollection = _SvarCollection()


@attrs.frozen
class _SoapException:
    faultCode: str
    faultString: str


@attrs.frozen
class _Fault:
    SSBTEKSoapException: _SoapException


# --- The simulated answer -------------------------------------------------------------


def _permit(source: random.Random, applied: dt.date, kind: str, case: str) -> Payload:
    decided = applied + dt.timedelta(days=source.randint(20, 400))
    permit: Payload = {
        "ansokningsdatum": applied,
        "arendeTyp": case,
        "beslutsKod": "BEV",
        "beslutsTyp": kind,
        "beslutsdatum": decided,
        "fromDatum": decided,
        "giltighetstid": "PERMANENT" if kind == "PUT" else "TIDBEGRANSAT",
    }
    if kind != "PUT":
        months = source.choice((13, 24, 36))
        permit["tomDatum"] = decided + dt.timedelta(days=months * 365 // 12)
    if source.random() < 0.06:
        last = permit.get("tomDatum", decided + dt.timedelta(days=3000))
        permit["aterkallelsedatum"] = rules.random_date(source, decided, last)
    return permit


def _permits(source: random.Random, entered: dt.date) -> list[Payload]:
    """Successive decisions from entry: temporary permits, extensions, maybe a permanent one."""
    kind, case = source.choice((("TUT", "UAT"), ("TUT", "UT"), ("AT", "AT"), ("PUT", "UT")))
    permits = [_permit(source, entered + dt.timedelta(days=source.randint(0, 60)), kind, case)]
    while len(permits) < 5 and "tomDatum" in permits[-1] and "aterkallelsedatum" not in permits[-1]:
        if source.random() > 0.75:
            break
        settled = (permits[-1]["tomDatum"] - entered).days > 4 * 365 and source.random() < 0.5
        kind, case = (
            ("PUT", "UT") if settled else (permits[-1]["beslutsTyp"], permits[-1]["arendeTyp"])
        )
        applied = permits[-1]["tomDatum"] - dt.timedelta(days=source.randint(30, 90))
        permits.append(_permit(source, applied, kind, case))
    return permits


def _wire(permit: Payload) -> Payload:
    return {
        **{
            key: xml_date(value) if isinstance(value, dt.date) else value
            for key, value in permit.items()
        },
        "arendeTypNamn": _CASES[permit["arendeTyp"]],
        "beslutsKodNamn": "ANSÖKAN BEVILJAS",
        "beslutsTypNamn": _KINDS[permit["beslutsTyp"]],
    }


def answer(subject: PersonalIdentityNumber, period: Period) -> Payload:
    """Migrationsverket's ``response`` about ``subject`` for ``period``."""
    source = rules.rng(PROVIDER.value, subject.digits)
    response: Payload = {
        "correlationid": f"{source.getrandbits(128):032x}",
        "personnummer": subject.digits,
        "svarCollection": {"svar": []},
    }
    if rules.simulates_data_for(subject, PROVIDER):
        toddler = subject.birth_date + dt.timedelta(days=365)
        entered = rules.random_date(
            source, max(dt.date(2005, 1, 1), toddler), max(dt.date(2025, 6, 30), toddler)
        )
        country = source.choice(_COUNTRIES)
        in_force = [
            _wire(permit)
            for permit in _permits(source, entered)
            if permit["beslutsdatum"] <= period.end
            and (permit.get("aterkallelsedatum") or permit.get("tomDatum") or period.start)
            >= period.start
        ]
        if in_force:
            response["hemland"] = country
            response["inresedatum"] = xml_date(entered)
            response["svarCollection"]["svar"] = in_force
    return response


def failure(source: random.Random) -> Payload:
    """The ``SSBTEKSoapException`` of Migrationsverket's service."""
    code, text = source.choice(_FAILURES)
    return {"SSBTEKSoapException": {"faultCode": code, "faultString": text}}


# --- The adapter step -----------------------------------------------------------------


def interpret(payload: object, subject: PersonalIdentityNumber) -> MigrationsverketRecord:
    if isinstance(payload, dict) and "SSBTEKSoapException" in payload:
        fault = structure(PROVIDER, payload, _Fault).SSBTEKSoapException
        raise BaseServiceReportedError(fault.faultCode, fault.faultString)
    response = structure(PROVIDER, payload, _Response)
    same_subject(PROVIDER, response.personnummer, subject)
    return MigrationsverketRecord(
        protected_identity=False,  # Migrationsverket's answer carries no such flag
        home_country=response.hemland,
        entered_on=response.inresedatum,
        permits=tuple(
            Permit(
                case_type=svar.arendeTyp,
                case_type_name=svar.arendeTypNamn,
                decision_code=svar.beslutsKod,
                decision_code_name=svar.beslutsKodNamn,
                kind=svar.beslutsTyp,
                kind_name=svar.beslutsTypNamn,
                validity=svar.giltighetstid,
                decided_on=svar.beslutsdatum,
                applied_on=svar.ansokningsdatum,
                valid_from=svar.fromDatum,
                valid_to=svar.tomDatum,
                revoked_on=svar.aterkallelsedatum,
            )
            for svar in response.svarCollection.svar
        ),
    )


SIMULATION: Final = ProviderSimulation(
    provider=PROVIDER,
    answer=answer,
    failure=failure,
    interpret=interpret,
    essential_keys=("correlationid", "personnummer"),
)
