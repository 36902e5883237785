"""SIMULATED Lefi answers: the parts Försäkringskassan and Pensionsmyndigheten share.

Both providers answer through FK's Lefi (``lefi-formansinformation-v9``, JSON): every
answer lists the ``utlamnare`` (FK or PM) with their ``tillstand`` (``OK``, ``FELANDE``,
``OTILLGANGLIG``) and may hold ``generellPersoninformation`` with ``skyddad``.
"""

from __future__ import annotations

import random
from typing import Final

import attrs

from adapters.providers.simulated import rules
from adapters.providers.simulated._kit import Payload, malformed, same_subject
from application.ports import BaseServiceReportedError
from domain.identity import PersonalIdentityNumber
from domain.providers import PROFILES, Provider

_CODES: Final = {Provider.FORSAKRINGSKASSAN: "FK", Provider.PENSIONSMYNDIGHETEN: "PM"}
_FAILURES: Final = (
    ("OTILLGANGLIG", "Informationskällan är inte tillgänglig för tillfället."),
    ("FELANDE", "Informationskällan svarar med fel."),
)


@attrs.frozen
class Utlamnare:
    kod: str
    namn: str = ""


@attrs.frozen
class Tillstand:
    kod: str
    beskrivning: str = ""


@attrs.frozen
class UtlamnareTillstand:
    utlamnare: Utlamnare
    tillstand: Tillstand


@attrs.frozen
class Personinformation:
    personnummer: str
    skyddad: bool = False


def state(provider: Provider, code: str = "OK", text: str = "Tillgänglig") -> list[Payload]:
    """The ``utlamnare`` list of an answer from ``provider``."""
    return [
        {
            "utlamnare": {"kod": _CODES[provider], "namn": PROFILES[provider].name},
            "tillstand": {"kod": code, "beskrivning": text},
        }
    ]


def person(subject: PersonalIdentityNumber, known: bool) -> list[Payload]:
    """``generellPersoninformation``: present when the provider knows the subject.

    A protected identity is always reported, even about a subject without other data.
    """
    protected = rules.simulates_protected_identity(subject)
    if not known and not protected:
        return []
    return [{"personnummer": subject.digits, "skyddad": protected}]


def failure(provider: Provider, source: random.Random) -> Payload:
    """An answer in which the provider's ``tillstand`` says it could not deliver."""
    code, text = source.choice(_FAILURES)
    return {"utlamnare": state(provider, code, text)}


def check_state(provider: Provider, utlamnare: tuple[UtlamnareTillstand, ...]) -> None:
    """Raise the failure the provider reports, or refuse an answer that does not say."""
    states = [entry.tillstand for entry in utlamnare if entry.utlamnare.kod == _CODES[provider]]
    if not states:
        raise malformed(provider, "an answer that does not list its own state")
    if states[0].kod != "OK":
        raise BaseServiceReportedError(states[0].kod, states[0].beskrivning)


def protected(
    provider: Provider, people: tuple[Personinformation, ...], subject: PersonalIdentityNumber
) -> bool:
    for entry in people:
        same_subject(provider, entry.personnummer, subject)
    return any(entry.skyddad for entry in people)
