"""How the events' value objects are stored: JSON transcodings built with cattrs, for every
application of the service.

The domain stays free of serialisation. Each attrs value object and enum that an event
carries gets a named transcoding; the name is stored data, so renaming a class keeps its
transcoding name (ADR 0002, ADR 0006). ``tests/unit/adapters/test_stored_values_stay_readable``
holds bytes stored before the transcodings came together here.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs
import cattrs
from eventsourcing.persistence import Transcoding

from domain.agreement.values import AgreementDocument
from domain.escalation.aggregate import Stage
from domain.escalation.values import Acting, Forum, Party
from domain.incident.conditions import Condition
from domain.incident.reporter import Reporter, ReporterKind
from domain.incident.service_levels import DeadlineKind, Impact, Priority
from domain.party.values import (
    BreachNotifier,
    DecisionBody,
    OrderForm,
    PartyRole,
    RemovalReason,
)
from domain.providers import Provider
from domain.query.aggregate import CancelReason, RejectionReason
from domain.query.values import (
    CallOutcome,
    EntryPoint,
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


class _Structured(Transcoding):
    """An attrs value object or an enum, as plain JSON values."""

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


_QUERY_TYPES: dict[str, type] = {
    "ssbtek.period": Period,
    "ssbtek.provider_selection": ProviderSelection,
    "ssbtek.call_outcome": CallOutcome,
    "ssbtek.provider_calls": ProviderCalls,
    "ssbtek.provider": Provider,
    "ssbtek.purpose": Purpose,
    "ssbtek.legal_basis": LegalBasis,
    "ssbtek.outcome_kind": OutcomeKind,
    "ssbtek.error_source": ErrorSource,
    "ssbtek.rejection_reason": RejectionReason,
    "ssbtek.cancel_reason": CancelReason,
    "ssbtek.entry_point": EntryPoint,
}
_PARTY_TYPES: dict[str, type] = {
    "ssbtek.order_form": OrderForm,
    "ssbtek.provider": Provider,
    "ssbtek.party_role": PartyRole,
    "ssbtek.caseworker_removal_reason": RemovalReason,
    "ssbtek.breach_notifier": BreachNotifier,
    "ssbtek.decision_body": DecisionBody,
    "ssbtek.agreement_document": AgreementDocument,
}
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
        assert attrs.has(kind) or issubclass(kind, enum.Enum)
    return [_Structured(kind, name) for name, kind in types.items()]


def query_transcodings() -> list[Transcoding]:
    """For ``Queries`` (and the audit's read-only copy of its log)."""
    return [DateAsISO(), *_transcodings(_QUERY_TYPES)]


def party_transcodings() -> list[Transcoding]:
    """For ``Parties`` and ``Agreements``."""
    return [DateAsISO(), *_transcodings(_PARTY_TYPES)]


def incident_transcodings() -> list[Transcoding]:
    """For ``Incidents``: the query transcodings (it follows the query events) and its own."""
    return [*query_transcodings(), *_transcodings(_INCIDENT_TYPES)]


def escalation_transcodings() -> list[Transcoding]:
    """For ``Escalations``."""
    return _transcodings(_ESCALATION_TYPES)
