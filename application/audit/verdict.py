"""The verdict of a verification: the breaks found in each log, and the first of them."""

from __future__ import annotations

import enum

import attrs


class BreakKind(enum.Enum):
    MODIFIED = "MODIFIED"
    """The event at this position is not the event that was sealed there."""
    DELETED = "DELETED"
    """A sealed event is no longer in the log."""
    INSERTED = "INSERTED"
    """An event no seal vouches for sits inside a sealed segment."""
    REORDERED = "REORDERED"
    """A sealed event sits at another position than the one it was sealed at."""
    SEGMENT_MISMATCH = "SEGMENT_MISMATCH"
    """Events whose own seal is gone do not chain to the next seal (position: the first of them)."""
    SEAL_FORGED = "SEAL_FORGED"
    """A seal's signature does not verify under a trusted key, or its content is malformed."""
    SEAL_UNREADABLE = "SEAL_UNREADABLE"
    SEAL_MISSING = "SEAL_MISSING"
    """A seal is gone from the middle of the application's chain of seals."""
    SEAL_CHAIN_BROKEN = "SEAL_CHAIN_BROKEN"
    """A validly signed seal does not continue the seal before it."""
    ANCHOR_MISSING = "ANCHOR_MISSING"
    """A seal the auditor kept from an earlier verification is gone or different."""
    STORE_MISSING = "STORE_MISSING"
    """An application has seals but its event store is not there to check."""


@attrs.frozen
class ChainBreak:
    application: str
    position: int
    kind: BreakKind
    detail: str


@attrs.frozen
class SealAnchor:
    """A seal an auditor keeps (``ssbtek audit verify --json`` prints the latest of each log):
    a later verification fails if the store no longer holds it, so deleting the newest seals
    (and truncating what they covered) is noticed."""

    application: str
    sequence: int
    last_position: int
    seal_hash: str


@attrs.frozen
class ChainVerdict:
    application: str
    events: int
    last_position: int
    seals: int
    sealed_through: int
    unsealed: int
    breaks: tuple[ChainBreak, ...]
    unlisted_breaks: int
    latest_seal: SealAnchor | None
    head_digest: str
    """The chain digest over every event read, sealed or not (hex)."""
    resumed_after: int = 0
    """Verified from a kept anchor: the position after which events were read (0: all)."""

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> ChainBreak | None:
        return min(self.breaks, key=break_order, default=None)


@attrs.frozen
class AuditVerdict:
    chains: tuple[ChainVerdict, ...]

    @property
    def intact(self) -> bool:
        return all(chain.intact for chain in self.chains)

    @property
    def first_break(self) -> ChainBreak | None:
        firsts = [chain.first_break for chain in self.chains if chain.first_break]
        return min(firsts, key=break_order, default=None)


def break_order(found: ChainBreak) -> tuple[int, int]:
    """Breaks sort by position, then by kind (seal problems after event problems at a tie)."""
    return found.position, list(BreakKind).index(found.kind)
