"""The TLS files checked at start, before the server binds (ADR 25): every file is read and
checked with ``cryptography``: it exists, it can be read, it is PEM, the key matches the
certificate, the certificate is valid today, the client CA is a CA, the revocation list is
one the client CA signed. One line per problem, naming the variable; never a key's bytes.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from adapters.security.revocation import RevocationListError, load_authorities, load_crl
from adapters.security.tls_files import Role, TlsFileError, read, server_tls
from infrastructure.settings import Settings

VARIABLES: Final = {
    Role.CERTIFICATE: "SSBTEK_TLS_CERTIFICATE",
    Role.PRIVATE_KEY: "SSBTEK_TLS_PRIVATE_KEY",
    Role.CLIENT_CA: "SSBTEK_TLS_CLIENT_CA",
}
CRL: Final = "SSBTEK_TLS_CRL"


def tls_problems(settings: Settings, now: dt.datetime | None = None) -> list[str]:
    """Every problem of the TLS files that are set, one line each (empty: none)."""
    now = now or dt.datetime.now(dt.UTC)
    paths = {
        Role.CERTIFICATE: settings.tls_certificate,
        Role.PRIVATE_KEY: settings.tls_private_key,
        Role.CLIENT_CA: settings.tls_client_ca,
    }
    cert, key, ca = paths.values()
    if cert is None or key is None or ca is None:  # the missing ones are said elsewhere
        problems = []
        for role, path in paths.items():
            if path is not None:
                try:
                    read(path)
                except TlsFileError as error:
                    problems.append(f"{VARIABLES[role]}: {error}")
        if settings.tls_crl is not None:
            problems.append(f"{CRL}: a revocation list needs mutual TLS (the three TLS files)")
        return problems
    _, found = server_tls(cert, key, ca, now)
    problems = [f"{VARIABLES[role]}: {found[role]}" for role in VARIABLES if role in found]
    if settings.tls_crl is not None and Role.CLIENT_CA not in found:
        try:
            load_crl(read(settings.tls_crl), load_authorities(read(ca)))
        except (TlsFileError, RevocationListError) as error:
            problems.append(f"{CRL}: {settings.tls_crl} {error}".replace(" : ", ": "))
    return problems
