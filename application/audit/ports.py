"""Ports of the audit use cases: signing seals, checking signatures, and the event logs read.

The signing key never enters the application: a ``Signer`` adapter holds it
(``adapters/security/signing.py``), and verification only needs public keys.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper


class Signer(Protocol):
    """Signs a seal's canonical bytes with the service's private key (Ed25519)."""

    @property
    def key_id(self) -> str:
        """Names the public key that checks the signature (16 hex characters)."""
        ...

    def sign(self, payload: bytes) -> bytes: ...


class SignatureVerifier(Protocol):
    """Checks seal signatures against the public keys an auditor trusts."""

    def verify(self, key_id: str, payload: bytes, signature: bytes) -> bool:
        """True only if ``key_id`` names a trusted key and the signature is its signature."""
        ...


class EventLog(Protocol):
    """What the audit reads of an application: its notification log (the recorder) and the
    mapper that turns a stored event back into a domain event. An ``Application`` is one;
    so is a store opened read-only on an auditor's copy (``infrastructure/stores.py``
    configures it, ``infrastructure/composition.py`` opens it).
    """

    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def mapper(self) -> Mapper[UUID]: ...
