"""The keys from configuration, and the development key files made once in the data directory
even when workers start together."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters.security.pseudonymiser import MIN_KEY_BYTES
from adapters.security.signing import load_public_key, load_signing_key, new_signing_key_pem
from infrastructure.audit_settings import AuditSettings
from infrastructure.settings import Settings, Store

log = logging.getLogger(__name__)

DEV_KEY_FILE: Final = "audit-signing.pem"


def create_once(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` (mode 0600) unless it exists; True if this call made it.

    The file appears whole or not at all: it is written under a name of this process and thread and
    hard-linked into place, so of several workers starting at once one wins and none can
    read a half-written key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True


def pseudonym_key(settings: Settings) -> bytes:
    """The HMAC key: from ``SSBTEK_PSEUDONYM_KEY``, else a key file made once in the data dir."""
    if settings.pseudonym_key_hex:
        return bytes.fromhex(settings.pseudonym_key_hex)
    path: Path = settings.pseudonym_key_file
    if not path.exists() and create_once(path, secrets.token_hex(MIN_KEY_BYTES).encode()):
        log.warning("made a new pseudonym key at %s; production sets SSBTEK_PSEUDONYM_KEY", path)
    return bytes.fromhex(path.read_text().strip())


def signing_key(
    settings: Settings, audit: AuditSettings, *, create: bool = True
) -> Ed25519PrivateKey:
    """The seal signing key from configuration. Development without one gets a key file made
    once in the data directory (a warning says it protects nothing there; ``create=False``
    only reads it); production refuses to start without a configured key."""
    if audit.signing_key_hex:
        return load_signing_key(audit.signing_key_hex.encode())
    if audit.signing_key_file is not None:
        return load_signing_key(audit.signing_key_file.read_bytes())
    if settings.production:
        raise SystemExit("production mode needs SSBTEK_AUDIT_SIGNING_KEY_FILE (the seal key)")
    if settings.store is Store.MEMORY:
        return Ed25519PrivateKey.generate()
    path = settings.data_dir / DEV_KEY_FILE
    if not path.exists() and not create:
        raise FileNotFoundError("no seal signing key is configured")
    if not path.exists() and create_once(path, new_signing_key_pem()):
        log.warning(
            "made a development seal key at %s: a key beside the data proves nothing to an "
            "auditor; production sets SSBTEK_AUDIT_SIGNING_KEY_FILE",
            path,
        )
    return load_signing_key(path.read_bytes())


def trusted_keys(audit: AuditSettings, files: Iterable[Path] = ()) -> list[Ed25519PublicKey]:
    """The public keys of ``SSBTEK_AUDIT_TRUSTED_KEYS`` and of ``files``."""
    return [load_public_key(path.read_bytes()) for path in (*audit.trusted_public_keys, *files)]
