"""The SOAP port's TLS context, following its files like the gRPC port's (ADR 25): a renewed
server certificate or a new client CA is used for the next new connection, without a restart.

Python calls an ``SSLContext``'s ``sni_callback`` during every handshake, right after the
client's hello, whether or not the client sent a server name. The callback compares the three
files' identity with what was last read (a few ``stat`` calls); when one changed it reads and
checks them (``adapters.security.tls_files``) and, if they pass, builds a new context and hands
the handshake over to it (``SSLObject.context``). Files that do not pass are not taken: the
port keeps the context it has, and an ERROR line says why, once per change.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import threading
from pathlib import Path

from adapters.security.tls_files import (
    FileIdentity,
    ServerTls,
    TlsFileError,
    file_identity,
    server_tls,
)
from adapters.soap.server import tls_context

log = logging.getLogger(__name__)


class _ReloadingContext:
    def __init__(self, certificate: Path, private_key: Path, client_ca: Path) -> None:
        self._paths = (certificate, private_key, client_ca)
        self._lock = threading.Lock()
        self._seen = self._identities()
        files, problems = server_tls(*self._paths, dt.datetime.now(dt.UTC))
        if files is None:
            raise TlsFileError("; ".join(problems.values()))
        self.context = self._context(files)

    def _identities(self) -> tuple[FileIdentity | None, ...]:
        return tuple(file_identity(path) for path in self._paths)

    def _context(self, files: ServerTls) -> ssl.SSLContext:
        context = tls_context(files.certificate_pem, files.private_key_pem, files.client_ca_pem)
        context.sni_callback = self._hello
        return context

    def _hello(
        self, connection: ssl.SSLObject, server_name: str | None, context: ssl.SSLContext
    ) -> None:
        current = self._current()
        if current is not context:
            connection.context = current

    def _current(self) -> ssl.SSLContext:
        seen = self._identities()
        if seen == self._seen:
            return self.context
        with self._lock:
            if seen == self._seen:
                return self.context
            self._seen = seen
            try:
                files, problems = server_tls(*self._paths, dt.datetime.now(dt.UTC))
                if files is None:
                    log.error(
                        "the changed TLS files were not taken, the SOAP port keeps serving "
                        "the certificate it has: %s",
                        "; ".join(problems.values()),
                    )
                    return self.context
                self.context = self._context(files)
            except (OSError, ssl.SSLError, ValueError) as error:
                log.error("the TLS files could not be loaded again: %s", type(error).__name__)
                return self.context
            log.info(
                "SOAP port: TLS files reloaded, the certificate expires %s", files.not_valid_after
            )
            return self.context


def reloading_tls_context(certificate: Path, private_key: Path, client_ca: Path) -> ssl.SSLContext:
    """Mutual TLS from the three files, read again when they change (for ``start_soap_server``)."""
    return _ReloadingContext(certificate, private_key, client_ca).context
