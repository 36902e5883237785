"""Every choice list of the command line is its protobuf enum's, name for name."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2 as apb
from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2 as epb
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as ipb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as ppb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as qpb
from infrastructure import cli_names


@pytest.mark.parametrize(
    ("name", "enum", "prefix"),
    [
        ("PURPOSES", qpb.Purpose, "PURPOSE_"),
        ("LEGAL_BASES", qpb.LegalBasis, "LEGAL_BASIS_"),
        ("PROVIDERS", qpb.Provider, "PROVIDER_"),
        ("PARTY_ROLES", ppb.PartyRole, "PARTY_ROLE_"),
        ("REMOVAL_REASONS", ppb.RemovalReason, "REMOVAL_REASON_"),
        ("BREACH_NOTIFIERS", ppb.BreachNotifier, "BREACH_NOTIFIER_"),
        ("DECISION_BODIES", ppb.DecisionBody, "DECISION_BODY_"),
        ("AGREEMENT_DOCUMENTS", apb.AgreementDocument, "AGREEMENT_DOCUMENT_"),
        ("DISPUTE_PARTY_ROLES", epb.DisputePartyRole, "DISPUTE_PARTY_ROLE_"),
        ("DISPUTE_FORUMS", epb.DisputeForum, "DISPUTE_FORUM_"),
        ("INCIDENT_PRIORITIES", ipb.IncidentPriority, "INCIDENT_PRIORITY_"),
        ("INCIDENT_IMPACTS", ipb.IncidentImpact, "INCIDENT_IMPACT_"),
    ],
)
def test_each_choice_list_is_its_enum_after_unspecified(name: str, enum: Any, prefix: str) -> None:
    assert enum.keys()[0].endswith("_UNSPECIFIED")
    assert getattr(cli_names, name) == [n.removeprefix(prefix) for n in enum.keys()[1:]]
