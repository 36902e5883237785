"""The TLS files read and checked with ``cryptography`` before they are used: at start (every
problem, one line each, naming the variable) and at every reload (ADR 25).

Each check says what is wrong in words and never echoes what the file holds: a private key's
bytes never reach a message.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


class TlsFileError(ValueError):
    """One file's problem, in words (never its content)."""


class Role(enum.Enum):
    CERTIFICATE = "the server's certificate"
    PRIVATE_KEY = "its private key"
    CLIENT_CA = "the client CA"


def read(path: Path) -> bytes:
    """The file's bytes; ``TlsFileError`` naming what stops it being read."""
    if not path.exists():
        raise TlsFileError(f"no such file: {path}")
    if path.is_dir():
        raise TlsFileError(f"{path} is a directory, not a file")
    try:
        return path.read_bytes()
    except OSError as error:
        raise TlsFileError(
            f"cannot read {path}: {error.strerror or type(error).__name__}"
        ) from None


FileIdentity = tuple[int, int, int, int]


def file_identity(path: Path) -> FileIdentity | None:
    """What changes when a file is replaced or rewritten: inode, size, modification and
    change times (``None``: it is not there). One ``stat``: cheap enough for every call."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def _describe(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def certificates(data: bytes, path: Path) -> list[x509.Certificate]:
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise TlsFileError(f"{path} is not a PEM certificate")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TlsFileError(f"{path} is not a PEM certificate") from None


def valid_now(certificate: x509.Certificate, path: Path, now: dt.datetime) -> None:
    if certificate.not_valid_before_utc > now:
        raise TlsFileError(
            f"{path}: the certificate is not valid yet (from "
            f"{_describe(certificate.not_valid_before_utc)})"
        )
    if certificate.not_valid_after_utc <= now:
        raise TlsFileError(
            f"{path}: the certificate expired on {_describe(certificate.not_valid_after_utc)}"
        )


def private_key(data: bytes, path: Path) -> PrivateKeyTypes:
    if b"-----BEGIN" not in data or b"PRIVATE KEY-----" not in data:
        raise TlsFileError(f"{path} is not a PEM private key")
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise TlsFileError(
            f"{path}: the private key is encrypted; the service needs it without a passphrase"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise TlsFileError(f"{path} is not a PEM private key") from None


def _public_bytes(key: object) -> bytes:
    public_bytes = getattr(key, "public_bytes")  # noqa: B009 - every public key type has it
    data: bytes = public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


def client_authorities(data: bytes, path: Path, now: dt.datetime) -> list[x509.Certificate]:
    found = certificates(data, path)
    for authority in found:
        try:
            constraints = authority.extensions.get_extension_for_class(x509.BasicConstraints)
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.value.ca:
            raise TlsFileError(
                f"{path}: {authority.subject.rfc4514_string()[:120]} is not a CA certificate "
                "(basicConstraints CA:TRUE is missing)"
            )
        valid_now(authority, path, now)
    return found


@attrs.frozen
class ServerTls:
    """The server's certificate chain, its key and the client CA, read and checked."""

    certificate_pem: bytes
    private_key_pem: bytes = attrs.field(repr=False)
    client_ca_pem: bytes
    not_valid_after: dt.datetime


def server_tls(
    certificate: Path, key: Path, client_ca: Path, now: dt.datetime
) -> tuple[ServerTls | None, dict[Role, str]]:
    """The three files checked together: each role's problem, or the checked files."""
    problems: dict[Role, str] = {}
    chain: list[x509.Certificate] = []
    loaded_key: PrivateKeyTypes | None = None
    data: dict[Role, bytes] = {}
    for role, path in ((Role.CERTIFICATE, certificate), (Role.PRIVATE_KEY, key)):
        try:
            data[role] = read(path)
        except TlsFileError as error:
            problems[role] = str(error)
    try:
        data[Role.CLIENT_CA] = read(client_ca)
        client_authorities(data[Role.CLIENT_CA], client_ca, now)
    except TlsFileError as error:
        problems[Role.CLIENT_CA] = str(error)
    if Role.CERTIFICATE in data:
        try:
            chain = certificates(data[Role.CERTIFICATE], certificate)
            valid_now(chain[0], certificate, now)
        except TlsFileError as error:
            problems[Role.CERTIFICATE] = str(error)
    if Role.PRIVATE_KEY in data:
        try:
            loaded_key = private_key(data[Role.PRIVATE_KEY], key)
        except TlsFileError as error:
            problems[Role.PRIVATE_KEY] = str(error)
    if (
        chain
        and loaded_key is not None
        and _public_bytes(loaded_key.public_key()) != _public_bytes(chain[0].public_key())
    ):
        problems[Role.PRIVATE_KEY] = (
            f"{key}: the private key does not match the certificate {certificate}"
        )
    if problems:
        return None, problems
    return (
        ServerTls(
            data[Role.CERTIFICATE],
            data[Role.PRIVATE_KEY],
            data[Role.CLIENT_CA],
            chain[0].not_valid_after_utc,
        ),
        {},
    )


log = logging.getLogger(__name__)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WatchedServerTls:
    """The server's three TLS files, read and checked at start, then followed (ADR 25).

    ``changed()`` compares the files' identity (inode, size, modification and change time)
    with what was last read, a few ``stat`` calls; when one changed it reads and checks all
    three and returns them if they pass. Files that do not pass (half written, a key from
    another pair) are not taken: the caller keeps what it serves, and an ERROR line names
    ``port`` and why, once per change. Each transport turns the files into its own TLS.
    """

    def __init__(
        self,
        certificate: Path,
        private_key: Path,
        client_ca: Path,
        *,
        port: str,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._paths = (certificate, private_key, client_ca)
        self._port = port
        self.now = now
        self._lock = threading.Lock()
        self._seen = self._identities()
        files, problems = server_tls(*self._paths, now())
        if files is None:
            raise TlsFileError("; ".join(problems.values()))
        self.serving = files
        self.reloads = 0

    def _identities(self) -> tuple[FileIdentity | None, ...]:
        return tuple(file_identity(path) for path in self._paths)

    def changed(self) -> ServerTls | None:
        """The files read again and checked when they changed since last read, else None."""
        seen = self._identities()
        if seen == self._seen:
            return None
        with self._lock:
            if seen == self._seen:
                return None
            self._seen = seen
            try:
                files, problems = server_tls(*self._paths, self.now())
            except Exception as error:  # never let a reload take the handshake down
                log.error("the TLS files could not be read again: %s", type(error).__name__)
                return None
            if files is None:
                log.error(
                    "the changed TLS files were not taken, the %s keeps serving the "
                    "certificate it has: %s",
                    self._port,
                    "; ".join(problems.values()),
                )
                return None
            self.serving = files
            self.reloads += 1
            log.info(
                "%s: TLS files reloaded, the certificate now served expires %s",
                self._port,
                files.not_valid_after.isoformat(),
            )
            return files
