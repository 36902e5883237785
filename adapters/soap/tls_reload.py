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

import logging
import ssl
from pathlib import Path

from adapters.security.tls_files import ServerTls, WatchedServerTls
from adapters.soap.server import tls_context

log = logging.getLogger(__name__)


class _ReloadingContext:
    def __init__(self, certificate: Path, private_key: Path, client_ca: Path) -> None:
        self._files = WatchedServerTls(certificate, private_key, client_ca, port="SOAP port")
        self.context = self._context(self._files.serving)

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
        files = self._files.changed()
        if files is not None:
            try:
                self.context = self._context(files)
            except (OSError, ssl.SSLError, ValueError) as error:
                log.error("the TLS files could not be loaded again: %s", type(error).__name__)
        return self.context


def reloading_tls_context(certificate: Path, private_key: Path, client_ca: Path) -> ssl.SSLContext:
    """Mutual TLS from the three files, read again when they change (for ``start_soap_server``)."""
    return _ReloadingContext(certificate, private_key, client_ca).context
