"""Mutual TLS: the server's credentials, and the asking organisation read from the client's
certificate.

A municipality's client certificate names its organisation the way Swedish organisation
certificates do: the subject's ``organizationIdentifier`` (OID 2.5.4.97) in the ETSI EN
319 412-1 form ``NTRSE-<organisationsnummer>``, or else the subject's ``serialNumber``
holding the organisation number.
"""

from __future__ import annotations

from typing import Any

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

from domain.errors import InvalidValueError
from domain.identity import OrganisationNumber


def server_credentials(
    certificate_pem: bytes, private_key_pem: bytes, client_ca_pem: bytes
) -> grpc.ServerCredentials:
    """Server credentials that require a client certificate issued by ``client_ca_pem``."""
    return grpc.ssl_server_credentials(
        [(private_key_pem, certificate_pem)],
        root_certificates=client_ca_pem,
        require_client_auth=True,
    )


def organisation_of(certificate_pem: bytes) -> str | None:
    """The organisation number (10 digits) a client certificate names, if it names a valid one."""
    subject = x509.load_pem_x509_certificate(certificate_pem).subject
    candidates = [
        str(attribute.value).removeprefix("NTRSE-")
        for attribute in subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    ]
    candidates += [str(a.value) for a in subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)]
    for candidate in candidates:
        try:
            return OrganisationNumber.parse(candidate).digits
        except InvalidValueError:
            continue
    return None


def authenticated_organisation(context: Any) -> str | None:
    """The organisation of the peer's certificate; ``None`` on a connection without TLS.

    On an mTLS connection whose certificate names no valid organisation number this
    returns ``""``, which matches no request, so the query is refused.
    """
    pem_certificates = context.auth_context().get("x509_pem_cert")
    if not pem_certificates:
        return None
    return organisation_of(pem_certificates[0]) or ""
