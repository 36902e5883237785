"""Test certificate authorities, made in the tests with ``cryptography`` (nothing is fetched)."""

from __future__ import annotations

import datetime as dt
import ipaddress

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@attrs.frozen
class Issued:
    certificate_pem: bytes
    private_key_pem: bytes

    @property
    def serial_number(self) -> int:
        return x509.load_pem_x509_certificate(self.certificate_pem).serial_number


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class CertificateAuthority:
    def __init__(self, name: str) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def _issue(
        self,
        subject: x509.Name,
        *,
        server: bool,
        not_after: dt.datetime | None = None,
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=10))
            .not_valid_after(not_after or now + dt.timedelta(days=10))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        certificate = builder.sign(self._key, hashes.SHA256())
        return Issued(certificate.public_bytes(serialization.Encoding.PEM), _key_pem(key))

    def issue_server(self, *, not_after: dt.datetime | None = None) -> Issued:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        return self._issue(name, server=True, not_after=not_after)

    def issue_client(self, *attributes: x509.NameAttribute[str]) -> Issued:
        """A client certificate with exactly this subject (e.g. no organisation number)."""
        return self._issue(x509.Name(list(attributes)), server=False)

    def revocation_list(self, *revoked: Issued, der: bool = False) -> bytes:
        """A CRL signed by this CA naming ``revoked`` (PEM, or DER)."""
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self._name)
            .last_update(now - dt.timedelta(minutes=1))
            .next_update(now + dt.timedelta(days=7))
        )
        for certificate in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(certificate.serial_number)
                .revocation_date(now - dt.timedelta(minutes=1))
                .build()
            )
        crl = builder.sign(self._key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.DER if der else serialization.Encoding.PEM)

    def issue_organisation(self, organisation_number: str, *, expired: bool = False) -> Issued:
        """A client certificate naming the organisation as Swedish organisation certificates do."""
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "Verksamhetssystem"),
                x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRSE-{organisation_number}"),
            ]
        )
        not_after = dt.datetime.now(dt.UTC) - dt.timedelta(days=1) if expired else None
        return self._issue(name, server=False, not_after=not_after)
