"""How the Party, CaseworkerRoster, PartyRegister and Agreement events' values are stored.

The same pattern as ``transcodings.py``: each attrs value object and enum an event carries
gets a named JSON transcoding built with cattrs, so the domain knows nothing of
serialisation. The names are stored data: renaming a class keeps its transcoding's name.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs
import cattrs
from eventsourcing.persistence import Transcoding

from adapters.persistence.transcodings import DateAsISO
from domain.agreement.values import AgreementDocument
from domain.party.values import (
    BreachNotifier,
    DecisionBody,
    OrderForm,
    PartyRole,
    RemovalReason,
)
from domain.providers import Provider

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


_VALUE_OBJECTS: dict[str, type] = {
    "ssbtek.order_form": OrderForm,
}
_ENUMS: dict[str, type[enum.Enum]] = {
    "ssbtek.provider": Provider,
    "ssbtek.party_role": PartyRole,
    "ssbtek.caseworker_removal_reason": RemovalReason,
    "ssbtek.breach_notifier": BreachNotifier,
    "ssbtek.decision_body": DecisionBody,
    "ssbtek.agreement_document": AgreementDocument,
}


def party_transcodings() -> list[Transcoding]:
    """The transcodings the Parties and Agreements applications register."""
    transcodings: list[Transcoding] = [DateAsISO()]
    for name, kind in {**_VALUE_OBJECTS, **_ENUMS}.items():
        assert attrs.has(kind) or issubclass(kind, enum.Enum)
        transcodings.append(_ConverterTranscoding(kind, name))
    return transcodings
