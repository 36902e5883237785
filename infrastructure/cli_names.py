"""The names a command line may choose from, as plain lists: each is a protobuf enum's
names after its ``UNSPECIFIED`` without the prefix, so that a command's parser needs no
protobuf (``tests/unit/infrastructure/test_cli_names.py`` checks every list against its enum:
a value added to a ``.proto`` fails that test until it is added here)."""

from __future__ import annotations

from typing import Final

PURPOSES: Final = ["FINANCIAL_ASSISTANCE_CASE", "APPLICATION_PREPARATION"]

LEGAL_BASES: Final = ["SOL_11_KAP_11", "FORORDNING_2008_975"]

PROVIDERS: Final = [
    "ARBETSFORMEDLINGEN",
    "CSN",
    "FORSAKRINGSKASSAN",
    "MIGRATIONSVERKET",
    "PENSIONSMYNDIGHETEN",
    "SKATTEVERKET",
    "UNEMPLOYMENT_FUNDS",
    "TRANSPORTSTYRELSEN",
]

PARTY_ROLES: Final = ["MUNICIPALITY", "DATA_PROVIDER", "OPERATOR", "SKR"]

REMOVAL_REASONS: Final = ["LEFT_EMPLOYMENT", "CHANGED_TASKS"]

BREACH_NOTIFIERS: Final = ["SKR", "OPERATOR"]

DECISION_BODIES: Final = ["PARLIAMENT", "GOVERNMENT", "COURT", "AUTHORITY", "OTHER_SUPERIOR_BODY"]

AGREEMENT_DOCUMENTS: Final = [
    "AGREEMENT",
    "DEFINITIONS",
    "MUNICIPAL_CONNECTION_AGREEMENT",
    "PROCESSOR_AGREEMENT",
    "SERVICE_DESCRIPTION_AND_TERMS",
    "LIABILITY_RULES",
    "GENERAL_TERMS",
]

DISPUTE_PARTY_ROLES: Final = ["MUNICIPALITY", "DATA_PROVIDER", "OPERATOR", "SKR"]

DISPUTE_FORUMS: Final = [
    "OPERATIONS_COUNCIL_MUNICIPALITIES",
    "OPERATIONS_COUNCIL_PROVIDERS",
    "EXPERT_COUNCIL",
    "STEERING_GROUP",
    "DIRECTORS",
    "OTHER_GROUP",
]

INCIDENT_PRIORITIES: Final = ["CRITICAL", "HIGH", "MEDIUM", "LOW"]

INCIDENT_IMPACTS: Final = [
    "FLOW_BROKEN",
    "TIMEOUTS",
    "WRONG_INFORMATION",
    "SINGLE_CALLS_UNANSWERED",
]
