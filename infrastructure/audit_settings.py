"""The audit trail's settings: the seal signing key, the sealing interval, who may audit.

The ``SSBTEK_AUDIT_*`` variables are declared here (``infrastructure/variables.py`` says
how) and read with the others by ``infrastructure/settings.py``, which keeps the result as
``Settings.audit``. Keep the signing key outside the data directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import attrs
import pydantic

from infrastructure.variables import HexKey, Organisations, Paths, variable


@attrs.frozen
class AuditSettings:
    signing_key_hex: Annotated[str, HexKey(32, exact=True)] = variable(
        "",
        "the Ed25519 key that signs the audit seals, as 64 hex digits (instead of the file)",
        name="SSBTEK_AUDIT_SIGNING_KEY",
        secret=True,
    )
    signing_key_file: Path | None = variable(
        None,
        "the Ed25519 key that signs the audit seals (PEM PKCS#8, 32 raw bytes or 64 hex "
        "digits); keep it away from the database and the data directory; production needs it "
        "or `SSBTEK_AUDIT_SIGNING_KEY`",
        shown_default="development: made once in the data dir",
    )
    trusted_public_keys: Paths = variable(
        (),
        "comma-separated files of earlier public keys whose seals still verify after a key "
        "rotation",
        name="SSBTEK_AUDIT_TRUSTED_KEYS",
    )
    seal_interval_s: Annotated[float, pydantic.Field(gt=0)] = variable(
        60.0,
        "seconds between seals (and one more at shutdown)",
        name="SSBTEK_AUDIT_SEAL_INTERVAL",
    )
    auditors: Organisations = variable(
        frozenset(),
        "organisation numbers whose client certificates may call `AuditService` over mutual TLS",
        empty="any client the server accepts",
    )
    """Organisation numbers (10 digits)."""
