"""Ed25519 signing of audit seals (``cryptography``), and the keys' file formats.

The private key is read from configuration only (a PEM file, a file of 32 raw bytes or
64 hex characters, or a hex value): the composition root passes the bytes in, and the key
never reaches a store. The public key is exported as PEM (SubjectPublicKeyInfo) or as 64
hex characters; a key id is the first 16 hex characters of SHA-256 over its 32 raw bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

RAW_KEY_BYTES = 32


class KeyFormatError(ValueError):
    """The bytes given are not an Ed25519 key in a format we read (never quotes them)."""


def _hex_or_raw(data: bytes) -> bytes | None:
    text = data.strip()
    if len(text) == 2 * RAW_KEY_BYTES:
        try:
            return bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            pass
    if len(data) == RAW_KEY_BYTES:
        return data
    return None


def load_signing_key(data: bytes) -> Ed25519PrivateKey:
    """A private key from PEM (PKCS#8), 64 hex characters, or 32 raw bytes."""
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise KeyFormatError("not a readable, unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError("the PEM key is not an Ed25519 key")
        return key
    raw = _hex_or_raw(data)
    if raw is None:
        raise KeyFormatError("an Ed25519 private key is PEM, 64 hex characters or 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(raw)


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """A public key from PEM (SubjectPublicKeyInfo) or 64 hex characters."""
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError):
            raise KeyFormatError("not a readable PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFormatError("the PEM key is not an Ed25519 key")
        return key
    raw = _hex_or_raw(data)
    if raw is None:
        raise KeyFormatError("an Ed25519 public key is PEM or 64 hex characters")
    return Ed25519PublicKey.from_public_bytes(raw)


def new_signing_key_pem() -> bytes:
    """A fresh private key as PEM (PKCS#8), e.g. for ``openssl``-free key generation."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public_key(key)).hexdigest()[:16]


class Ed25519Signer:
    """The ``Signer`` port: signs seal payloads with the service's private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self._key_id = key_id(self.public_key)

    @property
    def key_id(self) -> str:
        return self._key_id

    def sign(self, payload: bytes) -> bytes:
        return self._private_key.sign(payload)

    def __repr__(self) -> str:
        return f"Ed25519Signer(key_id={self._key_id!r})"


class Ed25519Verifier:
    """The ``SignatureVerifier`` port over the public keys an auditor trusts."""

    def __init__(self, public_keys: Iterable[Ed25519PublicKey]) -> None:
        self._keys = {key_id(key): key for key in public_keys}

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def verify(self, key_id: str, payload: bytes, signature: bytes) -> bool:
        key = self._keys.get(key_id)
        if key is None:
            return False
        try:
            key.verify(signature, payload)
        except InvalidSignature:
            return False
        return True
