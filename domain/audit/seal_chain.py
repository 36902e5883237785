"""``SealChain``: the signed seals of one application's event log, each linked to the last.

A seal vouches for the segment of the log since the previous seal: the positions and
(truncated) link digests of its events, and the chain digests at both ends. The chain of
seals is itself linked: each seal names the previous seal's hash, starts where it ended
and carries the next sequence number, so a seal removed from the middle is noticed.
The signature is made outside the domain (a ``Signer`` port); the aggregate only
records it, after checking that the content continues the chain.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.audit.chain import SealContent, genesis, parse_positions, positions_text
from domain.errors import DomainError

SEAL_CHAIN_NAMESPACE: Final = UUID("5e4a1c0d-2f7b-4c8e-a6d3-9b1f0e2c7a41")


class SealChainError(DomainError):
    """A seal does not continue its application's chain of seals."""


def seal_chain_id(application: str) -> UUID:
    """One chain of seals per application, with an id anyone can compute from its name."""
    return uuid.uuid5(SEAL_CHAIN_NAMESPACE, application)


class SealChain(Aggregate):
    """The seals of one application's log, in order."""

    class Started(Aggregate.Created):
        application: str

    class Sealed(Aggregate.Event):
        application: str
        sequence: int
        after_position: int
        positions: str
        links: str
        start_digest: str
        end_digest: str
        previous_seal: str
        sealed_at: str
        key_id: str
        signature: str

        def content(self) -> SealContent:
            """The signed content, as the verifier rebuilds it from the stored event."""
            return SealContent(
                application=self.application,
                sequence=self.sequence,
                after_position=self.after_position,
                positions=parse_positions(self.positions),
                links=bytes.fromhex(self.links),
                start_digest=bytes.fromhex(self.start_digest),
                end_digest=bytes.fromhex(self.end_digest),
                previous_seal=bytes.fromhex(self.previous_seal),
                sealed_at=self.sealed_at,
                key_id=self.key_id,
            )

        def apply(self, aggregate: SealChain) -> None:
            content = self.content()
            aggregate.sequence = content.sequence
            aggregate.last_position = content.last_position
            aggregate.end_digest = self.end_digest
            aggregate.last_seal = content.seal_hash().hex()

    def __init__(self, application: str) -> None:
        self.application = application
        self.sequence = 0
        self.last_position = 0
        self.end_digest = genesis(application).hex()
        self.last_seal = ""

    @classmethod
    def start(cls, application: str, *, at: dt.datetime) -> SealChain:
        return cls._create(
            cls.Started, id=seal_chain_id(application), timestamp=at, application=application
        )

    def next_content(
        self,
        *,
        positions: tuple[int, ...],
        links: bytes,
        end_digest: bytes,
        sealed_at: dt.datetime,
        key_id: str,
    ) -> SealContent:
        """The content of the next seal over the given segment, continuing this chain."""
        return SealContent(
            application=self.application,
            sequence=self.sequence + 1,
            after_position=self.last_position,
            positions=positions,
            links=links,
            start_digest=bytes.fromhex(self.end_digest),
            end_digest=end_digest,
            previous_seal=bytes.fromhex(self.last_seal),
            sealed_at=sealed_at.astimezone(dt.UTC).isoformat(),
            key_id=key_id,
        )

    def seal(self, content: SealContent, signature: bytes, *, at: dt.datetime) -> None:
        """Record a signed seal; it must continue the chain exactly."""
        problems = content.problems()
        if content.application != self.application:
            problems.append("the seal is for another application")
        if content.sequence != self.sequence + 1:
            problems.append("the seal's sequence number must follow the last seal's")
        if content.after_position != self.last_position:
            problems.append("the seal must start where the last seal ended")
        if content.start_digest.hex() != self.end_digest:
            problems.append("the seal's start digest must be the last seal's end digest")
        if content.previous_seal.hex() != self.last_seal:
            problems.append("the seal must name the last seal's hash")
        if not signature:
            problems.append("a seal is signed")
        if problems:
            raise SealChainError("; ".join(problems))
        self.trigger_event(
            self.Sealed,
            timestamp=at,
            application=content.application,
            sequence=content.sequence,
            after_position=content.after_position,
            positions=positions_text(content.positions),
            links=content.links.hex(),
            start_digest=content.start_digest.hex(),
            end_digest=content.end_digest.hex(),
            previous_seal=content.previous_seal.hex(),
            sealed_at=content.sealed_at,
            key_id=content.key_id,
            signature=signature.hex(),
        )
