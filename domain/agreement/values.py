"""The agreement documents, their precedence (001 § 4.1) and versions (001 § 4.2), and fees."""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal
from typing import Final

import attrs

from domain.errors import InvalidValueError
from domain.reference import IDENTITY_NUMBER_RULE, holds_identity_number

_VERSION = re.compile(r"[0-9]{1,4}(\.[0-9]{1,4}){0,3}")
ORE: Final = Decimal("0.01")


class AgreementDocument(enum.Enum):
    """The documents a municipality's connection to the service rests on (001 § 4.1)."""

    AGREEMENT = "AGREEMENT"
    """Överenskommelse om myndighetssamverkan för effektiv informationsöverföring."""
    DEFINITIONS = "DEFINITIONS"
    """Definitioner."""
    MUNICIPAL_CONNECTION_AGREEMENT = "MUNICIPAL_CONNECTION_AGREEMENT"
    """SSBTEK – Anslutningsavtal kommun (001)."""
    PROCESSOR_AGREEMENT = "PROCESSOR_AGREEMENT"
    """Personuppgiftsbiträdesavtal (PUB-avtal)."""
    SERVICE_DESCRIPTION_AND_TERMS = "SERVICE_DESCRIPTION_AND_TERMS"
    """SSBTEK – Beskrivning och tjänstespecifika villkor (004)."""
    LIABILITY_RULES = "LIABILITY_RULES"
    """Reglering av ansvar."""
    GENERAL_TERMS = "GENERAL_TERMS"
    """Allmänna villkor."""


PRECEDENCE: Final[dict[AgreementDocument, int]] = {
    AgreementDocument.AGREEMENT: 1,
    AgreementDocument.DEFINITIONS: 1,
    AgreementDocument.MUNICIPAL_CONNECTION_AGREEMENT: 2,
    AgreementDocument.PROCESSOR_AGREEMENT: 3,
    AgreementDocument.SERVICE_DESCRIPTION_AND_TERMS: 4,
    AgreementDocument.LIABILITY_RULES: 5,
    AgreementDocument.GENERAL_TERMS: 6,
}
"""Rank in the falling order of 001 § 4.1: a lower rank prevails. The Agreement and the
Definitions share the first place, as the clause lists them together."""


def prevailing(first: AgreementDocument, second: AgreementDocument) -> AgreementDocument | None:
    """Which of two documents prevails in a conflict (001 § 4.1); ``None`` if they rank equal."""
    if PRECEDENCE[first] == PRECEDENCE[second]:
        return None
    return first if PRECEDENCE[first] < PRECEDENCE[second] else second


@attrs.frozen
class VersionNumber:
    """A document's version, like ``1.0`` or ``1.1``; later versions compare greater."""

    label: str

    @classmethod
    def parse(cls, raw: str) -> VersionNumber:
        text = raw.strip()
        if not _VERSION.fullmatch(text):
            raise InvalidValueError("must be a version number like 1.0 or 2.1")
        if holds_identity_number(text):
            raise InvalidValueError(IDENTITY_NUMBER_RULE)
        return cls(text)

    @property
    def parts(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.label.split("."))

    def __str__(self) -> str:
        return self.label


@attrs.frozen
class DocumentVersion:
    """One version of one document, announced digitally on ``announced_on`` (000) and
    governing from ``effective_from``."""

    document: AgreementDocument
    version: str
    effective_from: dt.date
    announced_on: dt.date


@attrs.frozen
class AnnualFee:
    """The per-capita fee SKR set for a year (004 § 13.6; 000), in SEK per inhabitant."""

    year: int
    per_inhabitant: Decimal
    decided_on: dt.date


def fee_per_inhabitant(raw: Decimal) -> Decimal:
    """A fee in whole öre, not negative."""
    if not raw.is_finite() or raw < 0:
        raise InvalidValueError("must be a non-negative amount in SEK")
    if raw != raw.quantize(ORE):
        raise InvalidValueError("must be in whole öre (at most two decimals)")
    return raw.quantize(ORE)
