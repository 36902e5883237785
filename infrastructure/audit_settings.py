"""The audit trail's settings: the seal signing key, the sealing interval, who may audit.

``audit_settings_from_environ`` reads the ``SSBTEK_AUDIT_*`` variables from the mapping it
is given; ``infrastructure/settings.py`` (the one module that reads the environment) calls
it and keeps the result as ``Settings.audit``.

- ``SSBTEK_AUDIT_SIGNING_KEY_FILE``: the Ed25519 private key that signs seals (PEM PKCS#8,
  32 raw bytes or 64 hex characters); keep it outside the data directory;
- ``SSBTEK_AUDIT_SIGNING_KEY``: the same key as 64 hex characters, instead of the file;
- ``SSBTEK_AUDIT_TRUSTED_KEYS``: comma-separated files of earlier public keys whose seals
  still verify after a key rotation;
- ``SSBTEK_AUDIT_SEAL_INTERVAL``: seconds between seals, default 60;
- ``SSBTEK_AUDIT_AUDITORS``: comma-separated organisation numbers whose client certificates
  may call ``AuditService`` over mutual TLS; empty: any client the server accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from domain.identity import OrganisationNumber


@attrs.frozen
class AuditSettings:
    signing_key_hex: str = attrs.field(default="", repr=False)
    signing_key_file: Path | None = None
    trusted_public_keys: tuple[Path, ...] = ()
    seal_interval_s: float = 60.0
    auditors: frozenset[str] = frozenset()
    """Organisation numbers (10 digits)."""


def _list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def audit_settings_from_environ(environ: Mapping[str, str]) -> AuditSettings:
    get = environ.get
    key_file = get("SSBTEK_AUDIT_SIGNING_KEY_FILE", "")
    interval = float(get("SSBTEK_AUDIT_SEAL_INTERVAL", str(AuditSettings().seal_interval_s)))
    if interval <= 0:
        raise ValueError("SSBTEK_AUDIT_SEAL_INTERVAL must be a positive number of seconds")
    return AuditSettings(
        signing_key_hex=get("SSBTEK_AUDIT_SIGNING_KEY", ""),
        signing_key_file=Path(key_file) if key_file else None,
        trusted_public_keys=tuple(Path(p) for p in _list(get("SSBTEK_AUDIT_TRUSTED_KEYS", ""))),
        seal_interval_s=interval,
        auditors=frozenset(
            OrganisationNumber.parse(n).digits for n in _list(get("SSBTEK_AUDIT_AUDITORS", ""))
        ),
    )
