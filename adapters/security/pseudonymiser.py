"""Keyed pseudonyms: HMAC-SHA256 under a secret key that is never stored with the events."""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

MIN_KEY_BYTES: Final = 32


class HmacPseudonymiser:
    """``pseudonym(purpose, value)``: 32 hex characters, one-way without the key.

    The purpose separates uses, so a caseworker pseudonym and a request id made
    from the same text differ.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the pseudonym key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key

    def pseudonym(self, purpose: str, value: str) -> str:
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def __repr__(self) -> str:
        return "HmacPseudonymiser(<key hidden>)"
