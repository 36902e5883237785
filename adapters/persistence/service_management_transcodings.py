"""How the service-management events' value objects are stored: JSON transcodings (cattrs).

The ``Incidents`` application follows the query events, so it registers the query
transcodings too; ``Escalations`` needs only its own. Transcoding names are stored data:
renaming a class keeps its name here (ADR 0002).
"""

from __future__ import annotations

import enum
from typing import Any

import cattrs
from eventsourcing.persistence import Transcoding

from adapters.persistence.transcodings import query_transcodings
from domain.escalation.aggregate import Stage
from domain.escalation.values import Acting, Forum, Party
from domain.incident.conditions import Condition
from domain.incident.reporter import Reporter, ReporterKind
from domain.incident.service_levels import DeadlineKind, Impact, Priority
from domain.party.values import PartyRole

_converter = cattrs.Converter()


class _Structured(Transcoding):
    """An attrs value object or an enum, as plain JSON values."""

    def __init__(self, kind: type, name: str) -> None:
        self.type = kind
        self.name = name

    def encode(self, obj: Any) -> Any:
        return _converter.unstructure(obj)

    def decode(self, data: Any) -> Any:
        return _converter.structure(data, self.type)


_INCIDENT_TYPES: dict[str, type] = {
    "ssbtek.incident_reporter": Reporter,
    "ssbtek.incident_reporter_kind": ReporterKind,
    "ssbtek.incident_impact": Impact,
    "ssbtek.incident_priority": Priority,
    "ssbtek.incident_condition": Condition,
    "ssbtek.incident_deadline_kind": DeadlineKind,
}
_ESCALATION_TYPES: dict[str, type] = {
    "ssbtek.escalation_party": Party,
    "ssbtek.escalation_acting": Acting,
    "ssbtek.escalation_forum": Forum,
    "ssbtek.escalation_stage": Stage,
    "ssbtek.escalation_party_role": PartyRole,
}


def _transcodings(types: dict[str, type]) -> list[Transcoding]:
    for kind in types.values():
        assert issubclass(kind, enum.Enum) or hasattr(kind, "__attrs_attrs__")
    return [_Structured(kind, name) for name, kind in types.items()]


def incident_transcodings() -> list[Transcoding]:
    """For ``Incidents``: the query transcodings and the incident and problem value objects."""
    return [*query_transcodings(), *_transcodings(_INCIDENT_TYPES)]


def escalation_transcodings() -> list[Transcoding]:
    """For ``Escalations``."""
    return _transcodings(_ESCALATION_TYPES)
