"""Mutual TLS: the server's credentials, and the asking organisation read from the client's
certificate (``adapters.security.client_certificate`` reads it, for every transport).
"""

from __future__ import annotations

from typing import Any

import grpc

from adapters.security.client_certificate import organisation_of

__all__ = ["authenticated_organisation", "organisation_of", "server_credentials"]


def server_credentials(
    certificate_pem: bytes, private_key_pem: bytes, client_ca_pem: bytes
) -> grpc.ServerCredentials:
    """Server credentials that require a client certificate issued by ``client_ca_pem``."""
    return grpc.ssl_server_credentials(
        [(private_key_pem, certificate_pem)],
        root_certificates=client_ca_pem,
        require_client_auth=True,
    )


def authenticated_organisation(context: Any) -> str | None:
    """The organisation of the peer's certificate; ``None`` on a connection without TLS.

    On an mTLS connection whose certificate names no valid organisation number this
    returns ``""``, which matches no request, so the query is refused.
    """
    pem_certificates = context.auth_context().get("x509_pem_cert")
    if not pem_certificates:
        return None
    return organisation_of(pem_certificates[0]) or ""
