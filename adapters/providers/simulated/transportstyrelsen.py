"""SIMULATED Transportstyrelsen base service: the vehicles a subject owns.

The payload mirrors ``HamtaUppgifterResponse`` of Transportstyrelsen's SSBTEK service
(``HamtaUppgifterResponder_1.0.xsd``, ``fordon_1.0.xsd``): ``resultat`` (``OK``/``FEL``),
``fordonsinnehav/fordon`` with ``regnr``, ``fabrikat``, ``fordonsar``, ``fordonsslag`` and
``handelsbeteckning``, and on ``FEL`` a list of ``felresultat`` (``felkod``, ``feltext``).

The register answers with current holdings: the period does not change the answer.
Its opening hours (weekdays 08:00-16:30) are the application's business, not this one's.
"""

from __future__ import annotations

import random
from typing import Final

import attrs

from adapters.providers.simulated import rules
from adapters.providers.simulated._kit import Payload, ProviderSimulation, malformed, structure
from application.ports import BaseServiceReportedError
from domain.identity import PersonalIdentityNumber
from domain.provider_data import TransportstyrelsenRecord, Vehicle
from domain.providers import Provider
from domain.query.values import Period

PROVIDER: Final = Provider.TRANSPORTSTYRELSEN
_FAILURES: Final = (
    ("1001", "Tekniskt fel har uppstått. Försök igen senare."),
    ("1004", "Vägtrafikregistret är inte tillgängligt."),
)
_LETTERS: Final = "ABCDEFGHJKLMNOPRSTUWXYZ"  # no I, Q, V, Å, Ä, Ö in Swedish plates
_MODELS: Final = {
    "PERSONBIL": (
        ("VOLVO", ("V70", "V60", "XC60", "V90", "XC40")),
        ("VOLKSWAGEN", ("GOLF", "PASSAT", "ID.4")),
        ("TOYOTA", ("COROLLA", "RAV4", "YARIS")),
        ("KIA", ("NIRO", "CEED")),
        ("TESLA", ("MODEL Y", "MODEL 3")),
        ("SAAB", ("9-3", "9-5")),
        ("AUDI", ("A4", "A6")),
        ("BMW", ("320D", "X3")),
    ),
    "MOTORCYKEL": (
        ("HONDA", ("SH300A", "CB500F")),
        ("YAMAHA", ("MT-07",)),
        ("HARLEY-DAVIDSON", ("SPORTSTER",)),
        ("KAWASAKI", ("Z650",)),
    ),
    "SLÄPVAGN": (("BRENDERUP", ("1205S",)), ("TIKI", ("CP225",)), ("FOGELSTA", ("F1425",))),
    "LASTBIL": (("VOLVO", ("FH",)), ("SCANIA", ("R450",)), ("MERCEDES-BENZ", ("SPRINTER",))),
    "MOPED": (("PIAGGIO", ("ZIP",)), ("YAMAHA", ("NEOS",))),
}
_TYPES: Final = ("PERSONBIL", "MOTORCYKEL", "SLÄPVAGN", "LASTBIL", "MOPED")
_TYPE_WEIGHTS: Final = (75, 8, 10, 4, 3)


# --- The wire classes (``HamtaUppgifterResponseType``) --------------------------------


@attrs.frozen
class _Fordon:
    regnr: str
    fabrikat: str
    fordonsar: int
    fordonsslag: str
    handelsbeteckning: str


@attrs.frozen
class _Fordonsinnehav:
    fordon: tuple[_Fordon, ...] = ()


@attrs.frozen
class _Felresultat:
    felkod: str
    feltext: str


@attrs.frozen
class _Response:
    resultat: str
    fordonsinnehav: _Fordonsinnehav | None = None
    felresultat: tuple[_Felresultat, ...] = ()


# --- The simulated answer -------------------------------------------------------------


def _registration_number(source: random.Random) -> str:
    letters = "".join(source.choice(_LETTERS) for _ in range(3))
    digits = f"{source.randint(0, 99):02d}"
    last = source.choice(_LETTERS) if source.random() < 0.2 else str(source.randint(0, 9))
    return letters + digits + last


def _vehicle(source: random.Random) -> Payload:
    kind = source.choices(_TYPES, weights=_TYPE_WEIGHTS)[0]
    make, trade_names = source.choice(_MODELS[kind])
    return {
        "regnr": _registration_number(source),
        "fabrikat": make,
        "fordonsar": str(source.randint(1995, 2025)),
        "fordonsslag": kind,
        "handelsbeteckning": source.choice(trade_names),
    }


def answer(subject: PersonalIdentityNumber, period: Period) -> Payload:
    """Transportstyrelsen's answer about ``subject`` (current holdings, whatever the period)."""
    vehicles = []
    if rules.simulates_data_for(subject, PROVIDER):
        source = rules.rng(PROVIDER.value, subject.digits)
        count = source.choices((1, 2, 3), weights=(70, 22, 8))[0]
        vehicles = [_vehicle(source) for _ in range(count)]
    return {"resultat": "OK", "fordonsinnehav": {"fordon": vehicles}}


def failure(source: random.Random) -> Payload:
    """A ``FEL`` result with the register's ``felresultat``."""
    code, text = source.choice(_FAILURES)
    return {"resultat": "FEL", "felresultat": [{"felkod": code, "feltext": text}]}


# --- The adapter step -----------------------------------------------------------------


def interpret(payload: object, subject: PersonalIdentityNumber) -> TransportstyrelsenRecord:
    response = structure(PROVIDER, payload, _Response)
    if response.resultat == "FEL":
        if not response.felresultat:
            raise malformed(PROVIDER, "FEL without felresultat")
        raise BaseServiceReportedError(
            response.felresultat[0].felkod, response.felresultat[0].feltext
        )
    if response.resultat != "OK" or response.fordonsinnehav is None:
        raise malformed(PROVIDER, "a result that is neither OK with holdings nor FEL")
    return TransportstyrelsenRecord(
        protected_identity=False,  # Transportstyrelsen's answer carries no such flag
        vehicles=tuple(
            Vehicle(
                registration_number=fordon.regnr,
                make=fordon.fabrikat,
                model_year=fordon.fordonsar,
                vehicle_type=fordon.fordonsslag,
                trade_name=fordon.handelsbeteckning,
            )
            for fordon in response.fordonsinnehav.fordon
        ),
    )


SIMULATION: Final = ProviderSimulation(
    provider=PROVIDER,
    answer=answer,
    failure=failure,
    interpret=interpret,
    essential_keys=("resultat", "fordonsinnehav"),
)
