"""The asking organisation named in a client certificate (mutual TLS), for every transport.

How the caller is derived and validated is ``adapters.security.caller_identity`` (ADR 24):
the subject's ``organizationIdentifier`` ``NTRSE-<organisationsnummer>``, or else its
``serialNumber``, valid as an organisation number (ten digits, check digit).
"""

from __future__ import annotations

from cryptography import x509

from adapters.security.caller_identity import organisation_named


def organisation_of(certificate_pem: bytes) -> str | None:
    """The organisation number (10 digits) a client certificate names, if it names a valid one."""
    return organisation_named(x509.load_pem_x509_certificate(certificate_pem))
