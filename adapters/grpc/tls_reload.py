"""Server credentials that follow their files: a renewed server certificate, its key or a new
client CA is served to the next new connection, without a restart (ADR 25).

gRPC's dynamic server credentials call ``fetch`` before every new connection's handshake.
It compares the three files' identity (inode, size, modification and change time) with what
it last read, a few ``stat`` calls; when one changed, it reads and checks all three
(``adapters.security.tls_files``: PEM, the key matches the certificate, the certificate is
valid today, the client CA is a CA) and hands gRPC the new configuration. Files that do not
pass (half written, a key from another pair) are not taken: the server keeps what it serves,
and an ERROR line says why, once per change. Connections already open keep their session.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

import grpc

from adapters.security.tls_files import (
    FileIdentity,
    ServerTls,
    TlsFileError,
    file_identity,
    server_tls,
)

log = logging.getLogger(__name__)

Now = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _configuration(files: ServerTls) -> grpc.ServerCertificateConfiguration:
    return grpc.ssl_server_certificate_configuration(
        [(files.private_key_pem, files.certificate_pem)], root_certificates=files.client_ca_pem
    )


class ReloadingServerCredentials:
    """The server's TLS files, watched; ``credentials()`` for ``add_secure_port``."""

    def __init__(
        self, certificate: Path, private_key: Path, client_ca: Path, *, now: Now = _utc_now
    ) -> None:
        self._paths = (certificate, private_key, client_ca)
        self._now = now
        self._lock = threading.Lock()
        self._seen = self._identities()
        files, problems = server_tls(*self._paths, now())
        if files is None:
            raise TlsFileError("; ".join(problems.values()))
        self._serving = files
        self.reloads = 0

    @property
    def not_valid_after(self) -> dt.datetime:
        """When the certificate being served expires."""
        return self._serving.not_valid_after

    def days_left(self) -> float:
        """Days until the served certificate expires (negative once it has)."""
        return (self.not_valid_after - self._now()).total_seconds() / 86_400

    def credentials(self) -> grpc.ServerCredentials:
        # grpc's stub types the fetcher without its documented ``None`` (no change).
        fetch = cast(Callable[[], grpc.ServerCertificateConfiguration], self.fetch)
        return grpc.dynamic_ssl_server_credentials(
            _configuration(self._serving), fetch, require_client_authentication=True
        )

    def _identities(self) -> tuple[FileIdentity | None, ...]:
        return tuple(file_identity(path) for path in self._paths)

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """Called by gRPC before each new connection: a new configuration, or ``None``."""
        seen = self._identities()
        if seen == self._seen:
            return None
        with self._lock:
            if seen == self._seen:
                return None
            self._seen = seen
            try:
                files, problems = server_tls(*self._paths, self._now())
            except Exception as error:  # never let a reload take the handshake down
                log.error("the TLS files could not be read again: %s", type(error).__name__)
                return None
            if files is None:
                log.error(
                    "the changed TLS files were not taken, the server keeps serving the "
                    "certificate it has: %s",
                    "; ".join(problems.values()),
                )
                return None
            self._serving = files
            self.reloads += 1
            log.info(
                "TLS files reloaded: the server certificate now served expires %s",
                files.not_valid_after.isoformat(),
            )
            return _configuration(files)
