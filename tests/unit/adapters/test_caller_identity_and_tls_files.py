"""What a client certificate proves (ADR 24), and the TLS files' checks at start (ADR 25),
with certificates made here."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from adapters.security.caller_identity import (
    PROVES_NO_ORGANISATION,
    REVOKED,
    CallerIdentity,
    CallerRefused,
    organisation_named,
)
from adapters.security.revocation import RevocationList, RevocationListError
from infrastructure.settings import SettingsError, from_environ
from infrastructure.tls_check import tls_problems
from tests.canaries import forms, personnummer
from tests.canaries import text as canary_text
from tests.certificates import CertificateAuthority, Issued

CA = CertificateAuthority("Client CA")
SERVER_CA = CertificateAuthority("Server CA")


def _named(*attributes: x509.NameAttribute[str]) -> str | None:
    issued = CA.issue_client(*attributes)
    return organisation_named(x509.load_pem_x509_certificate(issued.certificate_pem))


def _oi(value: str) -> x509.NameAttribute[str]:
    return x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, value)


def _sn(value: str) -> x509.NameAttribute[str]:
    return x509.NameAttribute(NameOID.SERIAL_NUMBER, value)


@pytest.mark.parametrize(
    ("attributes", "proved"),
    [
        ((_oi("NTRSE-2120000142"),), "2120000142"),
        ((_oi("NTRSE-212000-0142"),), "2120000142"),
        ((_sn("2120000142"),), "2120000142"),
        ((_oi("NTRSE-2120000143"), _sn("2120000142")), "2120000142"),  # the first valid one
        ((_oi("NTRSE-2120000143"),), None),  # wrong check digit
        ((_oi("NTRSE-212000014"),), None),  # nine digits
        ((_oi("NTRSE-21200001420"),), None),  # eleven
        ((_oi("NTRSE-212000 0142"),), None),  # a space: not in a certificate
        ((_oi("VATSE-2120000142"),), None),  # another scheme
        ((), None),
    ],
)
def test_the_organisation_a_certificate_proves(
    attributes: tuple[x509.NameAttribute[str], ...], proved: str | None
) -> None:
    common_name = x509.NameAttribute(NameOID.COMMON_NAME, "Verksamhetssystem")
    assert _named(common_name, *attributes) == proved


def test_the_subject_logged_holds_no_personal_data() -> None:
    """A personal certificate from the same CA: a name, a personnummer; and one that hides a
    personnummer in its organisation name. Organisation numbers and names are shown."""
    rng = random.Random(24)
    number, name = personnummer(rng), canary_text("NAME")
    personal = CA.issue_client(
        x509.NameAttribute(NameOID.COMMON_NAME, name),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, number),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Kommun {forms(number)[3]}"),
    )
    organisation = CA.issue_client(
        x509.NameAttribute(NameOID.COMMON_NAME, "Verksamhetssystem"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo kommun"),
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRSE-2120000143"),
    )
    identity = CallerIdentity()
    refusals = []
    for issued in (personal, organisation):
        with pytest.raises(CallerRefused) as refused:
            identity.caller(issued.certificate_pem)
        refusals.append(refused.value.subject)
    assert refusals == [
        "O=<withheld>,serialNumber=<withheld>,CN=<withheld>",
        "organizationIdentifier=NTRSE-2120000143,O=Demo kommun,CN=<withheld>",
    ]
    assert not any(form in refusals[0] for form in forms(number))
    assert name not in refusals[0]


def test_a_revoked_certificate_is_refused_from_the_moment_its_list_is_on_disk(
    tmp_path: Path,
) -> None:
    (tmp_path / "ca.pem").write_bytes(CA.certificate_pem)
    (tmp_path / "ca.crl").write_bytes(CA.revocation_list())
    identity = CallerIdentity(RevocationList(tmp_path / "ca.crl", tmp_path / "ca.pem"))
    kept, revoked = CA.issue_organisation("2120000142"), CA.issue_organisation("2120000142")
    assert identity.caller(revoked.certificate_pem).organisation == "2120000142"
    (tmp_path / "ca.crl").write_bytes(CA.revocation_list(revoked))
    with pytest.raises(CallerRefused) as refused:
        identity.caller(revoked.certificate_pem)
    assert refused.value.reason == REVOKED
    assert refused.value.serial == format(revoked.serial_number, "x")
    assert identity.caller(kept.certificate_pem).organisation == "2120000142"
    # the same serial from another CA is not the one revoked
    stranger = CertificateAuthority("Client CA")
    assert not RevocationList(tmp_path / "ca.crl", tmp_path / "ca.pem").revoked(
        x509.load_pem_x509_certificate(stranger.issue_organisation("2120000142").certificate_pem)
    )
    nothing = CA.issue_client(x509.NameAttribute(NameOID.COMMON_NAME, "x"))
    with pytest.raises(CallerRefused) as unproved:
        identity.caller(nothing.certificate_pem)
    assert unproved.value.reason == PROVES_NO_ORGANISATION


def test_a_broken_list_on_disk_keeps_the_last_good_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    revoked = CA.issue_organisation("2120000142")
    (tmp_path / "ca.pem").write_bytes(CA.certificate_pem)
    (tmp_path / "ca.crl").write_bytes(CA.revocation_list(revoked))
    revocations = RevocationList(tmp_path / "ca.crl", tmp_path / "ca.pem")
    (tmp_path / "ca.crl").write_bytes(b"half a fi")
    certificate = x509.load_pem_x509_certificate(revoked.certificate_pem)
    assert revocations.revoked(certificate)
    assert not revocations.loaded
    assert "not taken" in caplog.text
    (tmp_path / "ca.crl").write_bytes(b"")
    with pytest.raises(RevocationListError):
        RevocationList(tmp_path / "ca.crl", tmp_path / "ca.pem")


@pytest.mark.parametrize("mode", ["prod", "Production", "PRODUCTION", "dev", "production,on"])
def test_a_mistyped_mode_is_refused(mode: str) -> None:
    with pytest.raises(SettingsError) as refused:
        from_environ({"SSBTEK_MODE": mode})
    assert refused.value.lines[0].startswith("SSBTEK_MODE: ")


def _files(tmp_path: Path, pair: Issued, ca: bytes = CA.certificate_pem) -> dict[str, str]:
    (tmp_path / "server.pem").write_bytes(pair.certificate_pem)
    (tmp_path / "server.key").write_bytes(pair.private_key_pem)
    (tmp_path / "ca.pem").write_bytes(ca)
    return {
        "SSBTEK_TLS_CERTIFICATE": str(tmp_path / "server.pem"),
        "SSBTEK_TLS_PRIVATE_KEY": str(tmp_path / "server.key"),
        "SSBTEK_TLS_CLIENT_CA": str(tmp_path / "ca.pem"),
    }


def test_good_files_have_no_problem_and_each_bad_one_names_its_variable(tmp_path: Path) -> None:
    pair = SERVER_CA.issue_server()
    env = _files(tmp_path, pair)
    assert tls_problems(from_environ(env)) == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=20)
    (expired,) = tls_problems(from_environ(env), now=later)
    assert expired.startswith("SSBTEK_TLS_CERTIFICATE: ")
    assert "expired on" in expired
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    lines = tls_problems(from_environ(env), now=earlier)
    assert [line.partition(":")[0] for line in lines] == [
        "SSBTEK_TLS_CERTIFICATE",
        "SSBTEK_TLS_CLIENT_CA",
    ]
    assert all("not valid yet" in line for line in lines)

    key = serialization.load_pem_private_key(pair.private_key_pem, password=None)
    (tmp_path / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    (encrypted,) = tls_problems(from_environ(env))
    assert encrypted.startswith("SSBTEK_TLS_PRIVATE_KEY: ")
    assert "encrypted" in encrypted


def test_a_revocation_list_is_checked_with_the_client_ca(tmp_path: Path) -> None:
    env = _files(tmp_path, SERVER_CA.issue_server())
    (tmp_path / "ca.crl").write_bytes(CA.revocation_list(der=True))
    (tmp_path / "other.crl").write_bytes(SERVER_CA.revocation_list())
    good = {**env, "SSBTEK_TLS_CRL": str(tmp_path / "ca.crl")}
    assert tls_problems(from_environ(good)) == []
    (line,) = tls_problems(from_environ({**env, "SSBTEK_TLS_CRL": str(tmp_path / "other.crl")}))
    other = tmp_path / "other.crl"
    assert line == f"SSBTEK_TLS_CRL: {other} is not signed by the client CA (SSBTEK_TLS_CLIENT_CA)"
    (alone,) = tls_problems(from_environ({"SSBTEK_TLS_CRL": str(tmp_path / "ca.crl")}))
    assert alone.startswith("SSBTEK_TLS_CRL: a revocation list needs mutual TLS")
