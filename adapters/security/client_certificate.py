"""The asking organisation named in a client certificate (mutual TLS), for every transport.

A municipality's client certificate names its organisation the way Swedish organisation
certificates do: the subject's ``organizationIdentifier`` (OID 2.5.4.97) in the ETSI EN
319 412-1 form ``NTRSE-<organisationsnummer>``, or else the subject's ``serialNumber``
holding the organisation number.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from domain.errors import InvalidValueError
from domain.identity import OrganisationNumber


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
