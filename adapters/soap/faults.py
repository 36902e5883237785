"""One place that maps errors to SOAP 1.1 faults carrying the v10 fault element.

``faultcode`` is ``soap:Client`` when the caller must change the request, ``soap:Server``
when the service could not answer it now. The detail holds ``hamtaBastjanstInformationFault``
(or ``testaBastjanstInformationFault``) with ``felkod`` and one ``felmeddelande`` per broken
rule, each naming the v10 element and the rule, never the value (ADR 19).
"""

from __future__ import annotations

import math
from typing import Final

import attrs
from lxml import etree

from adapters.soap.answer import envelope
from adapters.soap.contract import SOAP_ENV, SSBT, ContractViolation
from adapters.soap.provider_blocks import el
from adapters.soap.request import V10Query
from application.errors import (
    AuditUnavailableError,
    DuplicateQueryError,
    InvalidRequestError,
    OverloadedError,
    PermissionDeniedError,
    QueryInProgressError,
)

_REFUSALS: Final = {
    "ORGANISATION_MISMATCH": "generellaFrageparametrar.ingivare.organisationsnummer must be "
    "the organisation named in the client certificate",
    "ORGANISATION_NOT_CONNECTED": "generellaFrageparametrar.ingivare.organisationsnummer must "
    "be a connected municipality (004 § 9.2.8, § 17-18)",
    "CASEWORKER_UNKNOWN": "generellaFrageparametrar.ingivare.handlaggare must be a caseworker "
    "the municipality has registered (004 § 9.2.9, § 11.1)",
    "CASEWORKER_WITHOUT_ASSURANCE": "generellaFrageparametrar.ingivare.handlaggare must have "
    "signed the assurance (004 § 9.2.9)",
    "CASEWORKER_REVOKED": "generellaFrageparametrar.ingivare.handlaggare must not have a "
    "revoked authorisation (004 § 12.4.5)",
}
_UNAUTHENTICATED: Final = {
    "CERTIFICATE_PROVES_NO_ORGANISATION": "the client certificate must name a valid "
    "organisation number (organizationIdentifier NTRSE-<organisationsnummer>)",
    "CERTIFICATE_REVOKED": "the client certificate has been revoked by its CA",
}


def unauthenticated(reason: str) -> str:
    """The message of a refusal of the client certificate itself (ADR 24)."""
    return _UNAUTHENTICATED.get(reason, reason)


_UNMAPPED: Final = {
    "purpose": "maps to no purpose of the agreement (the accepted texts: ADR 19)",
    "legal_basis": "maps to no legal basis of the agreement (the accepted texts: ADR 19)",
}


@attrs.frozen
class Fault:
    """A fault to send: the client's or the server's, its code and messages."""

    client: bool
    code: str
    messages: tuple[str, ...]
    retry_after_s: int | None = None


def fault_for(error: Exception, query: V10Query | None) -> Fault:
    if isinstance(error, ContractViolation):
        return Fault(True, error.code, tuple(error.messages))
    if isinstance(error, InvalidRequestError):
        messages = []
        for violation in error.violations:
            name = query.field_name(violation.field) if query else violation.field
            rule = violation.description
            if violation.field in _UNMAPPED and rule == "is not a known value":
                rule = _UNMAPPED[violation.field]
            messages.append(f"{name} {rule}")
        return Fault(True, "INVALID_ARGUMENT", tuple(messages))
    if isinstance(error, PermissionDeniedError):
        return Fault(True, error.reason, (_REFUSALS.get(error.reason, str(error)),))
    if isinstance(error, OverloadedError):
        wait = 1 if error.retry_after_s is None else max(1, math.ceil(error.retry_after_s))
        return Fault(False, error.reason, (str(error),), retry_after_s=wait)
    if isinstance(error, AuditUnavailableError):
        return Fault(False, "AUDIT_UNAVAILABLE", (str(error),), retry_after_s=1)
    if isinstance(error, QueryInProgressError):
        return Fault(
            False, "QUERY_IN_PROGRESS", (str(error),), retry_after_s=round(error.retry_after_s)
        )
    if isinstance(error, DuplicateQueryError):
        return Fault(True, "DUPLICATE_REQUEST", (str(error),))
    return Fault(False, "INTERNAL", ("the service failed to handle the request",))


def fault_envelope(fault: Fault, operation: str) -> etree._Element:
    body = etree.Element(f"{{{SOAP_ENV}}}Fault")
    el(body, None, "faultcode", "soap:Client" if fault.client else "soap:Server")
    el(body, None, "faultstring", f"{fault.code}: {'; '.join(fault.messages)}")
    detail = el(body, None, "detail")
    element = el(detail, SSBT, f"{operation}Fault")
    el(element, SSBT, "felkod", fault.code)
    for message in fault.messages:
        el(element, SSBT, "felmeddelande", message)
    return envelope(body)
