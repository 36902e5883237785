"""The client CA's certificate revocation list (CRL), read again whenever its file changes
(ADR 25).

The operator puts the CA's CRL (PEM or DER) at ``SSBTEK_TLS_CRL``. Every call's certificate
is looked up in it; before that, the file's identity (inode, size, modification time) is
compared with the one last read, a ``stat`` and nothing more, so a CRL replaced on disk
applies from the next call, on every connection, without a restart.

A CRL is only believed when the client CA signed it: a list signed by anyone else (or a
file that is not a CRL at all) is refused at start, and at a reload it is not taken: the
last good list stays in force and an ERROR line says why, once per change of the file.
Refusing every caller because of a broken file would turn a mistake into an outage; the
ERROR line and ``ssbtek_tls_revocation_list_loaded`` (0) make it visible.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes

from adapters.security.tls_files import FileIdentity, file_identity

log = logging.getLogger(__name__)


class RevocationListError(ValueError):
    """The file is not a CRL that the client CA signed (the message names no key material)."""


def load_crl(data: bytes, authorities: list[x509.Certificate]) -> x509.CertificateRevocationList:
    """The CRL in ``data`` (PEM or DER), if one of ``authorities`` issued and signed it."""
    try:
        if b"-----BEGIN" in data:
            crl = x509.load_pem_x509_crl(data)
        else:
            crl = x509.load_der_x509_crl(data)
    except ValueError:
        raise RevocationListError("is not a certificate revocation list (PEM or DER)") from None
    for authority in authorities:
        if authority.subject != crl.issuer:
            continue
        public_key: CertificateIssuerPublicKeyTypes = authority.public_key()  # type: ignore[assignment]
        try:
            if crl.is_signature_valid(public_key):
                return crl
        except TypeError:
            continue
    raise RevocationListError("is not signed by the client CA (SSBTEK_TLS_CLIENT_CA)")


def load_authorities(data: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(data)


class RevocationList:
    """The revoked serials of the client CA, from ``path``; re-read when the file changes."""

    def __init__(
        self,
        path: Path,
        client_ca: Path,
        *,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._path = path
        self._client_ca = client_ca
        self._now = now
        self._lock = threading.Lock()
        self._seen: tuple[FileIdentity | None, FileIdentity | None] | None = None
        self._issuer: x509.Name | None = None
        self._serials: frozenset[int] = frozenset()
        self.loaded = False
        """Whether the list in force is the file as it is now (False: a reload failed)."""
        self._reload()
        if not self.loaded:
            raise RevocationListError(self._problem)

    def in_force_is_on_disk(self) -> bool:
        """Whether the list in force is the file as it is now (read again if it changed)."""
        self._reload()
        return self.loaded

    @property
    def count(self) -> int:
        return len(self._serials)

    def revoked(self, certificate: x509.Certificate) -> bool:
        """Whether the CA has revoked ``certificate`` (reading the list again if it changed)."""
        self._reload()
        return certificate.issuer == self._issuer and certificate.serial_number in self._serials

    def _reload(self) -> None:
        seen = (file_identity(self._path), file_identity(self._client_ca))
        if seen == self._seen:
            return
        with self._lock:
            if seen == self._seen:
                return
            self._seen = seen
            try:
                authorities = load_authorities(self._client_ca.read_bytes())
                crl = load_crl(self._path.read_bytes(), authorities)
            except (OSError, ValueError) as error:
                self._problem = f"{self._path}: {_problem(error)}"
                self.loaded = False
                log.error(
                    "the revocation list was not taken: %s; the last good list stays in force",
                    self._problem,
                )
                return
            self._issuer = crl.issuer
            self._serials = frozenset(entry.serial_number for entry in crl)
            self.loaded = True
            self._problem = ""
            next_update = crl.next_update_utc
            if next_update is not None and next_update < self._now():
                log.warning(
                    "the revocation list %s is past its next update (%s): fetch a new one",
                    self._path,
                    next_update.isoformat(),
                )
            log.info("revocation list %s: %d revoked certificates", self._path, self.count)

    _problem = ""


def _problem(error: Exception) -> str:
    if isinstance(error, OSError):
        return f"cannot read it: {error.strerror or type(error).__name__}"
    return str(error)
