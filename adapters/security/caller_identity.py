"""Who is calling: the organisation a verified client certificate proves (ADR 24), for every
transport, and whether that certificate has been revoked since (ADR 25).

The TLS handshake has already checked the chain to the client CA, the validity dates and the
key usage. What the handshake cannot check is what the certificate *says*: a certificate from
the trusted CA that names no organisation number, or a malformed one, proves no organisation
and may call nothing. A certificate the CA has revoked (``RevocationList``) may call nothing
either, from the moment its revocation list is on disk.

A Swedish organisation certificate names its organisation in the subject's
``organizationIdentifier`` (OID 2.5.4.97) in the ETSI EN 319 412-1 form
``NTRSE-<organisationsnummer>``, or else in the subject's ``serialNumber``. The number is
validated as the domain validates every organisation number: ten digits, a valid check
digit (``domain.identity.OrganisationNumber``).
"""

from __future__ import annotations

from typing import Final

import attrs
from cryptography import x509
from cryptography.x509.oid import NameOID

from adapters.security.revocation import RevocationList
from domain.errors import InvalidValueError
from domain.identity import OrganisationNumber

PROVES_NO_ORGANISATION: Final = "CERTIFICATE_PROVES_NO_ORGANISATION"
"""The ``ErrorReason`` of a certificate that names no valid organisation number."""
REVOKED: Final = "CERTIFICATE_REVOKED"
"""The ``ErrorReason`` of a certificate on the client CA's revocation list."""
_SUBJECT_CHARS: Final = 200
_NAMES: Final = {NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier"}


@attrs.frozen
class Caller:
    """The organisation a client certificate proves, and the certificate that proves it."""

    organisation: str
    """Ten digits, check digit valid."""
    subject: str
    serial: str
    """The certificate's serial number, hex."""


class CallerRefused(Exception):
    """The certificate proves no organisation, or it is revoked: ``UNAUTHENTICATED``."""

    def __init__(self, reason: str, subject: str, serial: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.subject = subject
        self.serial = serial


def subject_of(certificate: x509.Certificate) -> str:
    """The subject as RFC 4514 text, cut short: for a log line (organisation certificates
    name a system and an organisation, not a person)."""
    text = certificate.subject.rfc4514_string(_NAMES)
    return text if len(text) <= _SUBJECT_CHARS else text[:_SUBJECT_CHARS] + "..."


def serial_of(certificate: x509.Certificate) -> str:
    return format(certificate.serial_number, "x")


def organisation_named(certificate: x509.Certificate) -> str | None:
    """The organisation number a certificate names, if it names a valid one."""
    subject = certificate.subject
    candidates = [
        str(attribute.value).removeprefix("NTRSE-")
        for attribute in subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    ]
    candidates += [str(a.value) for a in subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)]
    for candidate in candidates:
        if not candidate.isascii() or not candidate.replace("-", "").isdigit():
            continue  # OrganisationNumber.parse also takes spaces; a certificate may not
        try:
            return OrganisationNumber.parse(candidate).digits
        except InvalidValueError:
            continue
    return None


class CallerIdentity:
    """Derives the caller from a verified client certificate; refuses what proves nothing."""

    def __init__(self, revocations: RevocationList | None = None) -> None:
        self._revocations = revocations

    def caller(self, certificate_pem: bytes) -> Caller:
        """The caller the certificate proves; ``CallerRefused`` when it proves none."""
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        subject, serial = subject_of(certificate), serial_of(certificate)
        if self._revocations is not None and self._revocations.revoked(certificate):
            raise CallerRefused(REVOKED, subject, serial)
        organisation = organisation_named(certificate)
        if organisation is None:
            raise CallerRefused(PROVES_NO_ORGANISATION, subject, serial)
        return Caller(organisation, subject, serial)
