"""Mutual TLS: the server's credentials (``adapters.grpc.tls_reload`` renews them from their
files), and the asking organisation the client's certificate proves
(``adapters.grpc.identity`` derives it once per call, for every service).
"""

from __future__ import annotations

import grpc

from adapters.grpc.identity import authenticated_organisation
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
