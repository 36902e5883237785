"""SIMULATED Arbetsförmedlingen base service: job-seeker registration and support decisions.

The payload mirrors the ``Svar`` of AF's ``ersattningsstod/v2`` (``ers_stod.xsd``):
``Sekretessmarkering``, ``ArbetssokandeInfo`` (``ArbetssokandeRegistrerad`` as an
``xs:date`` with zone), ``BeslutInfo/EkonomiskaBeslut/Beslut``, ``Akassetillhorighet``
and ``StatusSokandeinformationKod``. Status codes of the simulation: ``0`` answered,
``1`` not registered with AF (a valid answer without data), ``8``/``9`` failures.
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
    xml_bool,
    xml_date,
)
from application.ports import BaseServiceReportedError
from domain.identity import PersonalIdentityNumber
from domain.provider_data import ArbetsformedlingenRecord, SupportDecision
from domain.providers import Provider
from domain.query.values import Period

PROVIDER: Final = Provider.ARBETSFORMEDLINGEN
_ANSWERED: Final = ("0", "Frågan har behandlats normalt och ett giltigt svar har returnerats.")
_NOT_REGISTERED: Final = ("1", "Personen finns inte registrerad hos Arbetsförmedlingen.")
_FAILURES: Final = (
    ("8", "Tjänsten är tillfälligt överbelastad. Försök igen senare."),
    ("9", "Tekniskt fel. Frågan kunde inte behandlas."),
)
_CATEGORIES: Final = (
    "Arbetslös",
    "Deltidsarbetslös",
    "Timanställd",
    "I program med aktivitetsstöd",
    "Anställd",
)
_BENEFITS: Final = ("AKTIVITETSSTOD", "UTVECKLINGSERSATTNING", "ETABLERINGSERSATTNING")


# --- The wire classes (AF ``Svar``) ---------------------------------------------------


@attrs.frozen
class _Aktivitetsrapport:
    AktivitetsRapportMeddelande: str
    SenasteAktivitetsRapportDatum: dt.date | None = None


@attrs.frozen
class _ArbetssokandeInfo:
    AktivetetsRapportDatum: _Aktivitetsrapport
    Arbetssokande: bool | None = None
    ArbetssokandeSKAT: str | None = None
    ArbetssokandeRegistrerad: dt.date | None = None
    ArbetssokandeOmfattning: int | None = None
    ArbetssokandeAvaktualiserad: dt.date | None = None


@attrs.frozen
class _Beslut:
    ErsattningTyp: str
    Omfattning: int
    BeslutFrom: dt.date
    BeslutTom: dt.date


@attrs.frozen
class _EkonomiskaBeslut:
    Beslut: tuple[_Beslut, ...] = ()


@attrs.frozen
class _BeslutInfo:
    EkonomiskaBeslut: _EkonomiskaBeslut


@attrs.frozen
class _Svar:
    Schemaversion: str
    Referensnummer: str
    IdentitetsbeteckningFysiskPerson: str
    StatusSokandeinformationKod: str
    StatusSokandeinformationKodText: str
    Sekretessmarkering: bool = False
    ArbetssokandeInfo: _ArbetssokandeInfo | None = None
    BeslutInfo: _BeslutInfo | None = None
    Akassetillhorighet: str | None = None


# --- The simulated answer -------------------------------------------------------------


def _decisions(
    source: random.Random, registered: dt.date, until: dt.date
) -> list[tuple[str, int, dt.date, dt.date]]:
    """Successive support decisions of three to six months while registered."""
    decisions: list[tuple[str, int, dt.date, dt.date]] = []
    start = registered + dt.timedelta(days=source.randint(14, 120))
    benefit = source.choice(_BENEFITS)
    while start <= until and len(decisions) < 5:
        end = min(start + dt.timedelta(days=source.randint(90, 184)), until)
        decisions.append((benefit, source.choice((100, 100, 75, 50)), start, end))
        start = end + dt.timedelta(days=1 + source.randint(0, 60))
    return decisions


def answer(subject: PersonalIdentityNumber, period: Period) -> Payload:
    """AF's ``Svar`` about ``subject`` for ``period``."""
    payload: Payload = {
        "Schemaversion": "4.0",
        "Referensnummer": "SSBTEK-SIMULERING",
        "LagParagraf": "SoL 11 kap. 11 a §",
        "IdentitetsbeteckningFysiskPerson": subject.digits,
        "Sekretessmarkering": xml_bool(rules.simulates_protected_identity(subject)),
    }
    code, text = _NOT_REGISTERED
    if rules.simulates_data_for(subject, PROVIDER):
        source = rules.rng(PROVIDER.value, subject.digits)
        adult = dt.date(subject.birth_date.year + 18, 1, 1)
        registered = rules.random_date(
            source, max(dt.date(2012, 1, 1), adult), max(dt.date(2025, 6, 30), adult)
        )
        left = source.random() < 0.5
        deregistered = registered + dt.timedelta(days=source.randint(60, 1100)) if left else None
        until = deregistered or registered + dt.timedelta(days=1200)
        decisions = _decisions(source, registered, until)
        category, extent = source.choice(_CATEGORIES), source.choice(("100", "100", "75", "50"))
        report_lag = source.randint(1, 27)
        if registered <= period.end and (deregistered is None or deregistered >= period.start):
            code, text = _ANSWERED
            reference = min(period.end, deregistered or period.end)
            reported = reference - dt.timedelta(days=report_lag)
            info: Payload = {
                "Arbetssokande": "true",
                "ArbetssokandeSKAT": category,
                "ArbetssokandeRegistrerad": xml_date(registered),
                "ArbetssokandeOmfattning": extent,
                "AktivetetsRapportDatum": {"AktivitetsRapportMeddelande": "Ingen rapport finns"},
            }
            if reported >= registered:
                info["AktivetetsRapportDatum"] = {
                    "AktivitetsRapportMeddelande": "Aktivitetsrapport inlämnad",
                    "SenasteAktivitetsRapportDatum": xml_date(reported),
                }
            if deregistered is not None:
                info["ArbetssokandeAvaktualiserad"] = xml_date(deregistered)
            payload["ArbetssokandeInfo"] = info
            payload["Akassetillhorighet"] = rules.unemployment_fund_of(subject)
        in_period = [
            {
                "ErsattningTyp": benefit,
                "Omfattning": str(extent_percent),
                "BeslutFrom": xml_date(start),
                "BeslutTom": xml_date(end),
            }
            for benefit, extent_percent, start, end in decisions
            if start <= period.end and end >= period.start
        ]
        if in_period:
            code, text = _ANSWERED
            payload["BeslutInfo"] = {"EkonomiskaBeslut": {"Beslut": in_period}}
    payload["StatusSokandeinformationKod"] = code
    payload["StatusSokandeinformationKodText"] = text
    return payload


def failure(source: random.Random) -> Payload:
    """A ``Svar`` in which AF reports that it could not handle the question."""
    code, text = source.choice(_FAILURES)
    return {
        "Schemaversion": "4.0",
        "Referensnummer": "SSBTEK-SIMULERING",
        "IdentitetsbeteckningFysiskPerson": "000000000000",
        "StatusSokandeinformationKod": code,
        "StatusSokandeinformationKodText": text,
    }


# --- The adapter step -----------------------------------------------------------------


def interpret(payload: object, subject: PersonalIdentityNumber) -> ArbetsformedlingenRecord:
    svar = structure(PROVIDER, payload, _Svar)
    if svar.StatusSokandeinformationKod not in {_ANSWERED[0], _NOT_REGISTERED[0]}:
        raise BaseServiceReportedError(
            svar.StatusSokandeinformationKod, svar.StatusSokandeinformationKodText
        )
    same_subject(PROVIDER, svar.IdentitetsbeteckningFysiskPerson, subject)
    info = svar.ArbetssokandeInfo
    decisions = svar.BeslutInfo.EkonomiskaBeslut.Beslut if svar.BeslutInfo else ()
    return ArbetsformedlingenRecord(
        protected_identity=svar.Sekretessmarkering,
        registered_job_seeker=bool(info and info.Arbetssokande),
        job_seeker_category=info.ArbetssokandeSKAT if info else None,
        registered_on=info.ArbetssokandeRegistrerad if info else None,
        extent_percent=info.ArbetssokandeOmfattning if info else None,
        deregistered_on=info.ArbetssokandeAvaktualiserad if info else None,
        latest_activity_report_on=(
            info.AktivetetsRapportDatum.SenasteAktivitetsRapportDatum if info else None
        ),
        unemployment_fund=svar.Akassetillhorighet,
        support_decisions=tuple(
            SupportDecision(
                benefit_type=decision.ErsattningTyp,
                extent_percent=decision.Omfattning,
                valid_from=decision.BeslutFrom,
                valid_to=decision.BeslutTom,
            )
            for decision in decisions
        ),
    )


SIMULATION: Final = ProviderSimulation(
    provider=PROVIDER,
    answer=answer,
    failure=failure,
    interpret=interpret,
    essential_keys=("IdentitetsbeteckningFysiskPerson", "StatusSokandeinformationKod"),
)
