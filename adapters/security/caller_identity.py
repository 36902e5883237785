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

import functools
import re
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
_NAMES: Final = {
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
    NameOID.SERIAL_NUMBER: "serialNumber",
}
_SHOWN: Final = frozenset(
    {
        NameOID.COUNTRY_NAME,
        NameOID.ORGANIZATION_NAME,
        NameOID.ORGANIZATIONAL_UNIT_NAME,
        NameOID.ORGANIZATION_IDENTIFIER,
        NameOID.LOCALITY_NAME,
        NameOID.STATE_OR_PROVINCE_NAME,
        NameOID.DOMAIN_COMPONENT,
    }
)
"""Attributes that name an organisation or a place: their values may be logged."""
_NUMBER: Final = re.compile(r"(?<!\d)(?:\d{8}|\d{6})[-+]?\d{4}(?!\d)")


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
    """The subject for a log line, without personal data (ADR 4).

    An organisation certificate names a system and an organisation. But the same CA may issue
    personal certificates (a person's name in ``CN``, a personnummer in ``serialNumber``), and
    anyone's certificate may reach this line. So only attributes that name an organisation or
    a place are shown, and even those not when they hold what could be a personal identity
    number; every other attribute is shown by its name with its value withheld.
    """
    parts = []
    for attribute in reversed(list(certificate.subject)):  # RFC 4514 order: last RDN first
        name = _NAMES.get(attribute.oid) or attribute.rfc4514_attribute_name
        value = str(attribute.value)
        shown = attribute.oid in _SHOWN and not _may_be_personal(value)
        parts.append(f"{name}={_escaped(value) if shown else '<withheld>'}")
    text = ",".join(parts)
    return text if len(text) <= _SUBJECT_CHARS else text[:_SUBJECT_CHARS] + "..."


def _may_be_personal(value: str) -> bool:
    """Whether ``value`` holds ten or twelve digits that could be a personnummer: an
    organisation number's third and fourth digits are 20 or more, a person's month 01-12
    (a samordningsnummer's too; its day is shifted)."""
    for found in _NUMBER.finditer(value):
        digits = re.sub(r"\D", "", found.group())[-10:]
        if 1 <= int(digits[2:4]) <= 12:
            return True
    return False


def _escaped(value: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in value)


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


@functools.lru_cache(maxsize=1024)
def _parsed(certificate_pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(certificate_pem)


class CallerIdentity:
    """Derives the caller from a verified client certificate; refuses what proves nothing."""

    def __init__(self, revocations: RevocationList | None = None) -> None:
        self._revocations = revocations

    def caller(self, certificate_pem: bytes) -> Caller:
        """The caller the certificate proves; ``CallerRefused`` when it proves none.

        Revocation is looked up on every call; the parsed certificate is remembered (a
        connection presents the same bytes on each of its calls)."""
        try:
            certificate = _parsed(certificate_pem)
        except ValueError:  # OpenSSL took it, cryptography's stricter parser does not
            raise CallerRefused(PROVES_NO_ORGANISATION, "<not parsable>", "?") from None
        subject, serial = subject_of(certificate), serial_of(certificate)
        if self._revocations is not None and self._revocations.revoked(certificate):
            raise CallerRefused(REVOKED, subject, serial)
        organisation = organisation_named(certificate)
        if organisation is None:
            raise CallerRefused(PROVES_NO_ORGANISATION, subject, serial)
        return Caller(organisation, subject, serial)
