"""Helpers for the service-management tests: a valid query to make the saga record events."""

from __future__ import annotations

from application.commands import PeriodCommand, QueryCommand


def query_command() -> QueryCommand:
    """One subject, every provider; the values are the documented test personnummer."""
    return QueryCommand(
        client_request_id="",
        organisation_number="212000-0142",
        organisation_name="Testkommun",
        caseworker_id="HL000001",
        case_id="EKB-2026-0001",
        purpose="FINANCIAL_ASSISTANCE_CASE",
        legal_basis="SOL_11_KAP_11",
        period=PeriodCommand((2026, 5, 1), (2026, 10, 31)),
        subjects=("19121212-1212",),
    )
