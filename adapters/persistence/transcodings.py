"""How the Query aggregate's value objects are stored: JSON transcodings built with cattrs.

The domain stays free of serialisation. Each attrs value object and enum that an
event carries gets a named transcoding; the name is stored data, so renaming a class
keeps its transcoding name (see ADR 0006).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs
import cattrs
from eventsourcing.persistence import Transcoding

from domain.providers import Provider
from domain.query.aggregate import CancelReason, RejectionReason
from domain.query.values import (
    CallOutcome,
    ErrorSource,
    LegalBasis,
    OutcomeKind,
    Period,
    ProviderCalls,
    ProviderSelection,
    Purpose,
)

_converter = cattrs.Converter()
_converter.register_unstructure_hook(dt.date, lambda d: d.isoformat())
_converter.register_structure_hook(dt.date, lambda v, _: dt.date.fromisoformat(v))


class _ConverterTranscoding(Transcoding):
    def __init__(self, kind: type, name: str) -> None:
        self.type = kind
        self.name = name

    def encode(self, obj: Any) -> Any:
        return _converter.unstructure(obj)

    def decode(self, data: Any) -> Any:
        return _converter.structure(data, self.type)


class DateAsISO(Transcoding):
    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        return dt.date.fromisoformat(data)


_VALUE_OBJECTS: dict[str, type] = {
    "ssbtek.period": Period,
    "ssbtek.provider_selection": ProviderSelection,
    "ssbtek.call_outcome": CallOutcome,
    "ssbtek.provider_calls": ProviderCalls,
}
_ENUMS: dict[str, type[enum.Enum]] = {
    "ssbtek.provider": Provider,
    "ssbtek.purpose": Purpose,
    "ssbtek.legal_basis": LegalBasis,
    "ssbtek.outcome_kind": OutcomeKind,
    "ssbtek.error_source": ErrorSource,
    "ssbtek.rejection_reason": RejectionReason,
    "ssbtek.cancel_reason": CancelReason,
}


def query_transcodings() -> list[Transcoding]:
    """The transcodings the Queries application registers on its JSON transcoder."""
    transcodings: list[Transcoding] = [DateAsISO()]
    for name, kind in {**_VALUE_OBJECTS, **_ENUMS}.items():
        assert attrs.has(kind) or issubclass(kind, enum.Enum)
        transcodings.append(_ConverterTranscoding(kind, name))
    return transcodings
