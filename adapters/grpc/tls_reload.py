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
from collections.abc import Callable
from pathlib import Path
from typing import cast

import grpc

from adapters.security.tls_files import ServerTls, WatchedServerTls, utc_now

Now = Callable[[], dt.datetime]


def _configuration(files: ServerTls) -> grpc.ServerCertificateConfiguration:
    return grpc.ssl_server_certificate_configuration(
        [(files.private_key_pem, files.certificate_pem)], root_certificates=files.client_ca_pem
    )


class ReloadingServerCredentials:
    """The server's TLS files, watched; ``credentials()`` for ``add_secure_port``."""

    def __init__(
        self, certificate: Path, private_key: Path, client_ca: Path, *, now: Now = utc_now
    ) -> None:
        self._files = WatchedServerTls(
            certificate, private_key, client_ca, port="gRPC server", now=now
        )

    @property
    def reloads(self) -> int:
        return self._files.reloads

    @property
    def not_valid_after(self) -> dt.datetime:
        """When the certificate being served expires."""
        return self._files.serving.not_valid_after

    def days_left(self) -> float:
        """Days until the served certificate expires (negative once it has)."""
        return (self.not_valid_after - self._files.now()).total_seconds() / 86_400

    def credentials(self) -> grpc.ServerCredentials:
        # grpc's stub types the fetcher without its documented ``None`` (no change).
        fetch = cast(Callable[[], grpc.ServerCertificateConfiguration], self.fetch)
        return grpc.dynamic_ssl_server_credentials(
            _configuration(self._files.serving), fetch, require_client_authentication=True
        )

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """Called by gRPC before each new connection: a new configuration, or ``None``."""
        files = self._files.changed()
        return None if files is None else _configuration(files)
