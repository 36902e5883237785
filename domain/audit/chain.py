"""The hash chain over one application's stored events, and the exact bytes a seal signs.

Every field is framed as an 8-byte big-endian length followed by the bytes, so no two
different sequences of fields encode to the same bytes. Integers are 8-byte big-endian
unsigned, text is UTF-8, digests are SHA-256. ADR 0011 gives the same definitions, so an
auditor can recompute the chain with any SHA-256 implementation.

    link(e)      = SHA-256(frame("ssbtek.audit.event.v1", topic, originator id,
                                 u64(originator version), state))
    D_0          = SHA-256(frame("ssbtek.audit.genesis.v1", application))
    D_i          = SHA-256(frame("ssbtek.audit.chain.v1", D_{i-1}, u64(position_i), link_i))
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Final

import attrs

DIGEST_BYTES: Final = 32
LINK_BYTES: Final = 8
"""How much of each event's link digest a seal keeps: enough to name the exact position of
a break; the seal's full 32-byte chain digest is what proves integrity."""

EVENT_TAG: Final = b"ssbtek.audit.event.v1"
GENESIS_TAG: Final = b"ssbtek.audit.genesis.v1"
CHAIN_TAG: Final = b"ssbtek.audit.chain.v1"
SEAL_TAG: Final = b"ssbtek.audit.seal.v1"


def u64(number: int) -> bytes:
    """An unsigned integer as 8 big-endian bytes."""
    return number.to_bytes(8, "big", signed=False)


def frame(*fields: bytes) -> bytes:
    """Each field prefixed by its length (8 bytes, big-endian): unambiguous concatenation."""
    return b"".join(u64(len(field)) + field for field in fields)


_EVENT_HEAD: Final = frame(EVENT_TAG)
_CHAIN_HEAD: Final = frame(CHAIN_TAG) + u64(DIGEST_BYTES)
_U64_LENGTH: Final = u64(8)
_DIGEST_LENGTH: Final = u64(DIGEST_BYTES)
_framed_topics: dict[str, bytes] = {}


def link_digest(topic: str, originator_id: str, originator_version: int, state: bytes) -> bytes:
    """The digest of one stored event: its topic, originator id (text), version and state.

    The same bytes as ``frame(EVENT_TAG, topic, originator_id, u64(version), state)``,
    put together from precomputed parts (replay verifies every stored event).
    """
    framed_topic = _framed_topics.get(topic)
    if framed_topic is None:
        framed_topic = _framed_topics.setdefault(topic, frame(topic.encode()))
    originator = originator_id.encode()
    return hashlib.sha256(
        b"".join(
            (
                _EVENT_HEAD,
                framed_topic,
                u64(len(originator)),
                originator,
                _U64_LENGTH,
                u64(originator_version),
                u64(len(state)),
                state,
            )
        )
    ).digest()


def genesis(application: str) -> bytes:
    """The chain digest before an application's first event (binds the chain to its name)."""
    return hashlib.sha256(frame(GENESIS_TAG, application.encode())).digest()


def chain_step(previous: bytes, position: int, link: bytes) -> bytes:
    """The chain digest after the event at ``position`` whose link digest is ``link``:
    ``SHA-256(frame(CHAIN_TAG, previous, u64(position), link))``."""
    if len(previous) != DIGEST_BYTES or len(link) != DIGEST_BYTES:
        return hashlib.sha256(frame(CHAIN_TAG, previous, u64(position), link)).digest()
    return hashlib.sha256(
        b"".join((_CHAIN_HEAD, previous, _U64_LENGTH, u64(position), _DIGEST_LENGTH, link))
    ).digest()


def positions_text(positions: Sequence[int]) -> str:
    """Ascending positions as compact ranges: ``[1, 2, 3, 5]`` -> ``"1-3,5"``."""
    ranges: list[str] = []
    index = 0
    while index < len(positions):
        start = end = positions[index]
        while index + 1 < len(positions) and positions[index + 1] == end + 1:
            index += 1
            end = positions[index]
        ranges.append(str(start) if start == end else f"{start}-{end}")
        index += 1
    return ",".join(ranges)


def parse_positions(text: str) -> tuple[int, ...]:
    """The inverse of ``positions_text``."""
    positions: list[int] = []
    for item in filter(None, text.split(",")):
        start, _, end = item.partition("-")
        positions.extend(range(int(start), int(end or start) + 1))
    return tuple(positions)


@attrs.frozen
class SealContent:
    """What one seal vouches for: the segment of an application's log after ``after_position``
    up to its last position, and the chain digests at both ends of it.

    ``positions`` are the positions of every event of the segment, ``links`` their link
    digests truncated to ``LINK_BYTES`` each, in the same order.
    """

    application: str
    sequence: int
    after_position: int
    positions: tuple[int, ...]
    links: bytes
    start_digest: bytes
    end_digest: bytes
    previous_seal: bytes
    """The seal hash of the application's previous seal; empty for its first seal."""
    sealed_at: str
    """ISO 8601, UTC."""
    key_id: str

    @property
    def last_position(self) -> int:
        return self.positions[-1] if self.positions else self.after_position

    def link_at(self, index: int) -> bytes:
        return self.links[index * LINK_BYTES : (index + 1) * LINK_BYTES]

    def expected(self) -> dict[int, bytes]:
        """Position -> truncated link digest, for every event of the segment."""
        return {position: self.link_at(i) for i, position in enumerate(self.positions)}

    def payload(self) -> bytes:
        """The exact bytes the seal's Ed25519 signature covers."""
        return frame(
            SEAL_TAG,
            self.application.encode(),
            u64(self.sequence),
            u64(self.after_position),
            b"".join(u64(p) for p in self.positions),
            self.links,
            self.start_digest,
            self.end_digest,
            self.previous_seal,
            self.sealed_at.encode(),
            self.key_id.encode(),
        )

    def seal_hash(self) -> bytes:
        """What the next seal of the same application names as its ``previous_seal``."""
        return hashlib.sha256(self.payload()).digest()

    def problems(self) -> list[str]:
        """The ways this content is not a well-formed seal (empty when it is one)."""
        found = []
        if not self.positions:
            found.append("a seal covers at least one event")
        bounds = (self.after_position, *self.positions)
        if any(bounds[i + 1] <= bounds[i] for i in range(len(self.positions))):
            found.append("positions must ascend after the previous seal's last position")
        if len(self.links) != LINK_BYTES * len(self.positions):
            found.append("one truncated link digest per position")
        if len(self.start_digest) != DIGEST_BYTES or len(self.end_digest) != DIGEST_BYTES:
            found.append("chain digests are SHA-256 digests")
        if len(self.previous_seal) not in (0, DIGEST_BYTES):
            found.append("the previous seal is named by its SHA-256 seal hash")
        return found


def chain_digests(start: bytes, entries: Iterable[tuple[int, bytes]]) -> tuple[bytes, list[bytes]]:
    """Run the chain from ``start`` over ``(position, link)`` pairs: the end digest, and the
    links truncated as a seal keeps them."""
    digest = start
    truncated = []
    for position, link in entries:
        digest = chain_step(digest, position, link)
        truncated.append(link[:LINK_BYTES])
    return digest, truncated
