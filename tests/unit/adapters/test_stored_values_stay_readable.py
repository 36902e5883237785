"""Values stored before the transcodings came together in one module read back unchanged,
and the same values are still written as the same bytes (the names are stored data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from adapters.persistence.transcodings import (
    escalation_transcodings,
    incident_transcodings,
    party_transcodings,
    query_transcodings,
)
from domain.agreement.values import AgreementDocument
from domain.escalation.aggregate import Stage
from domain.escalation.values import Acting, Forum, Party
from domain.incident.conditions import Condition
from domain.incident.reporter import Reporter, ReporterKind
from domain.incident.service_levels import DeadlineKind, Impact, Priority
from domain.party.values import BreachNotifier, DecisionBody, OrderForm, PartyRole, RemovalReason
from domain.providers import Provider
from domain.query.aggregate import RejectionReason
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

_DAY = dt.date(2026, 6, 30)
_PERIOD = Period(_DAY, dt.date(2026, 7, 31))
_FAILED = CallOutcome(0, OutcomeKind.ERROR, 120, ErrorSource.SSBT, "E1")

# Written by the three transcoding modules as they stood before they were merged.
STORED: list[tuple[Callable[[], Sequence[Transcoding]], dict[str, Any], bytes]] = [
    (
        query_transcodings,
        {
            "period": _PERIOD,
            "selection": ProviderSelection(Provider.CSN, _PERIOD),
            "outcome": _FAILED,
            "calls": ProviderCalls(
                Provider.CSN, (_FAILED, CallOutcome(1, OutcomeKind.ANSWERED, 5))
            ),
            "purpose": Purpose.FINANCIAL_ASSISTANCE_CASE,
            "basis": LegalBasis.SOL_11_KAP_11,
            "reason": RejectionReason.INVALID_ARGUMENT,
            "day": _DAY,
        },
        b'{"period":{"_type_":"ssbtek.period","_data_":{"start":"2026-06-30","end":"2026-07-31"}}'
        b',"selection":{"_type_":"ssbtek.provider_selection","_data_":{"provider":"CSN",'
        b'"period":{"start":"2026-06-30","end":"2026-07-31"}}},"outcome":{"_type_":'
        b'"ssbtek.call_outcome","_data_":{"subject_index":0,"kind":"ERROR","latency_ms":120,'
        b'"error_source":"SSBT","error_code":"E1"}},"calls":{"_type_":"ssbtek.provider_calls",'
        b'"_data_":{"provider":"CSN","outcomes":[{"subject_index":0,"kind":"ERROR",'
        b'"latency_ms":120,"error_source":"SSBT","error_code":"E1"},{"subject_index":1,'
        b'"kind":"ANSWERED","latency_ms":5,"error_source":null,"error_code":null}]}},'
        b'"purpose":{"_type_":"ssbtek.purpose","_data_":"FINANCIAL_ASSISTANCE_CASE"},'
        b'"basis":{"_type_":"ssbtek.legal_basis","_data_":"SOL_11_KAP_11"},"reason":{"_type_":'
        b'"ssbtek.rejection_reason","_data_":"INVALID_ARGUMENT"},"day":{"_type_":"date_iso",'
        b'"_data_":"2026-06-30"}}',
    ),
    (
        party_transcodings,
        {
            "form": OrderForm(_DAY, True, False, True),
            "role": PartyRole.SKR,
            "removal": RemovalReason.LEFT_EMPLOYMENT,
            "notifier": BreachNotifier.SKR,
            "body": DecisionBody.PARLIAMENT,
            "document": AgreementDocument.AGREEMENT,
            "provider": Provider.CSN,
            "day": _DAY,
        },
        b'{"form":{"_type_":"ssbtek.order_form","_data_":{"signed_on":"2026-06-30",'
        b'"signed_by_authorised_representative":true,"power_of_attorney_attached":false,'
        b'"proof_of_authority_attached":true}},"role":{"_type_":"ssbtek.party_role","_data_":'
        b'"SKR"},"removal":{"_type_":"ssbtek.caseworker_removal_reason","_data_":'
        b'"LEFT_EMPLOYMENT"},"notifier":{"_type_":"ssbtek.breach_notifier","_data_":"SKR"},'
        b'"body":{"_type_":"ssbtek.decision_body","_data_":"PARLIAMENT"},"document":{"_type_":'
        b'"ssbtek.agreement_document","_data_":"AGREEMENT"},"provider":{"_type_":'
        b'"ssbtek.provider","_data_":"CSN"},"day":{"_type_":"date_iso","_data_":"2026-06-30"}}',
    ),
    (
        incident_transcodings,
        {
            "reporter": Reporter(ReporterKind.ORGANISATION, "2120000142", "ref"),
            "impact": Impact.FLOW_BROKEN,
            "priority": Priority.CRITICAL,
            "condition": Condition.NO_ANSWER,
            "deadline": DeadlineKind.RESPONSE,
            "period": _PERIOD,
        },
        b'{"reporter":{"_type_":"ssbtek.incident_reporter","_data_":{"kind":"ORGANISATION",'
        b'"organisation_number":"2120000142","reference":"ref"}},"impact":{"_type_":'
        b'"ssbtek.incident_impact","_data_":"FLOW_BROKEN"},"priority":{"_type_":'
        b'"ssbtek.incident_priority","_data_":"CRITICAL"},"condition":{"_type_":'
        b'"ssbtek.incident_condition","_data_":"NO_ANSWER"},"deadline":{"_type_":'
        b'"ssbtek.incident_deadline_kind","_data_":"RESPONSE"},"period":{"_type_":'
        b'"ssbtek.period","_data_":{"start":"2026-06-30","end":"2026-07-31"}}}',
    ),
    (
        escalation_transcodings,
        {
            "acting": Acting(
                Party("2120000142", PartyRole.SKR),
                Party("2021005489", PartyRole.MUNICIPALITY),
                "poa",
            ),
            "forum": Forum.OPERATIONS_COUNCIL_MUNICIPALITIES,
            "stage": Stage.COUNCIL,
        },
        b'{"acting":{"_type_":"ssbtek.escalation_acting","_data_":{"party":{"organisation_number"'
        b':"2120000142","role":"SKR"},"on_behalf_of":{"organisation_number":"2021005489",'
        b'"role":"MUNICIPALITY"},"power_of_attorney":"poa"}},"forum":{"_type_":'
        b'"ssbtek.escalation_forum","_data_":"OPERATIONS_COUNCIL_MUNICIPALITIES"},"stage":'
        b'{"_type_":"ssbtek.escalation_stage","_data_":"COUNCIL"}}',
    ),
]


def _transcoder(transcodings: Sequence[Transcoding]) -> JSONTranscoder:
    transcoder = JSONTranscoder()  # with the transcodings the library's Application registers
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *transcodings):
        transcoder.register(transcoding)
    return transcoder


@pytest.mark.parametrize(("transcodings", "values", "stored"), STORED)
def test_bytes_stored_before_read_back_as_the_same_values(
    transcodings: Callable[[], Sequence[Transcoding]], values: dict[str, Any], stored: bytes
) -> None:
    assert _transcoder(transcodings()).decode(stored) == values


@pytest.mark.parametrize(("transcodings", "values", "stored"), STORED)
def test_the_same_values_are_stored_as_the_same_bytes(
    transcodings: Callable[[], Sequence[Transcoding]], values: dict[str, Any], stored: bytes
) -> None:
    assert _transcoder(transcodings()).encode(values) == stored
