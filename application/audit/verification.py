"""Verification: does every application's event log still match its signed seals?

For each application the seals are checked first (signature under a trusted public key,
sequence, link to the previous seal, anchors the auditor kept), then the log is read in
notification order and compared with the seals segment by segment: each sealed position
must hold the event whose link digest the seal kept, no other event may sit inside a
sealed segment, and the chain digest must run from each seal's start digest to its end
digest. Events after the last seal are reported as unsealed: nothing vouches for them yet.
The verdict names every break found and the first one (ADR 0011).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Protocol

from eventsourcing.persistence import ApplicationRecorder

from application.audit.ports import SignatureVerifier
from application.audit.seals import StoredSeal
from application.audit.stored import link_of, notifications
from application.audit.verdict import (
    AuditVerdict,
    BreakKind,
    ChainBreak,
    ChainVerdict,
    SealAnchor,
    break_order,
)
from domain.audit.chain import LINK_BYTES, SealContent, chain_step, genesis

MAX_BREAKS: Final = 1000
"""Per application; beyond this the verdict says how many more were not listed."""


class SealSource(Protocol):
    """The stored seals (``AuditSeals``, or nothing when the copy has no seal store)."""

    def stored_seals(self, application: str, *, from_sequence: int = 0) -> list[StoredSeal]:
        """The seals of ``application`` from seal number ``from_sequence`` on (0: all)."""
        ...

    def sealed_applications(self) -> list[str]: ...


class NoSeals:
    """A seal source with no seals at all."""

    def stored_seals(self, application: str, *, from_sequence: int = 0) -> list[StoredSeal]:
        return []

    def sealed_applications(self) -> list[str]:
        return []


def verify_logs(
    logs: Mapping[str, ApplicationRecorder | None],
    seals: SealSource,
    verifier: SignatureVerifier,
    anchors: Sequence[SealAnchor] = (),
    *,
    resume: bool = False,
) -> AuditVerdict:
    """Verify every log in ``logs`` and every log that has seals. ``None`` stands for a log
    whose store is missing (on an auditor's copy). With ``resume``, a log with a kept
    anchor is verified from its latest anchor on (``verify_log``)."""
    names = list(dict.fromkeys([*logs, *seals.sealed_applications()]))
    chains = []
    for name in names:
        kept = [a for a in anchors if a.application == name]
        start = max(kept, key=lambda a: a.sequence) if resume and kept else None
        chains.append(verify_log(name, logs.get(name), seals, verifier, kept, start=start))
    return AuditVerdict(tuple(chains))


def verify_log(
    application: str,
    log: ApplicationRecorder | None,
    seals: Sequence[StoredSeal] | SealSource,
    verifier: SignatureVerifier,
    anchors: Sequence[SealAnchor] = (),
    *,
    start: SealAnchor | None = None,
) -> ChainVerdict:
    """Verify one application's log against its seals.

    With ``start`` (an anchor the auditor kept from an earlier verification, ADR 0027) only
    the seals from that one on are read, and the log from the start of its segment: the
    kept seal must still be stored unchanged and verify, and everything after it is
    checked as a full verification would. What lies before the anchor was verified when
    the anchor was kept. If the kept seal is gone or differs, that is reported and the
    whole log is verified.
    """
    stored = seals if isinstance(seals, Sequence) else None
    resumed: SealContent | None = None
    breaks: list[ChainBreak] = []
    if start is not None and stored is None:
        assert not isinstance(seals, Sequence)
        from_anchor = seals.stored_seals(application, from_sequence=start.sequence)
        resumed = _kept(start, from_anchor, verifier)
        if resumed is not None:
            stored = from_anchor
        else:
            breaks += _anchor_breaks(application, [], [start])
    if stored is None:
        assert not isinstance(seals, Sequence)
        stored = seals.stored_seals(application)
    trusted, found = _trusted_seals(
        application, stored, verifier, after_sequence=resumed.sequence - 1 if resumed else 0
    )
    breaks += found
    if resumed is None:
        breaks += _anchor_breaks(application, trusted, anchors)
    else:
        later = [a for a in anchors if a.sequence >= resumed.sequence]
        breaks += _anchor_breaks(application, trusted, later)
    latest = trusted[-1] if trusted else None
    anchor = (
        SealAnchor(application, latest.sequence, latest.last_position, latest.seal_hash().hex())
        if latest
        else None
    )
    if log is None:
        if trusted or stored:
            breaks.append(
                ChainBreak(application, 1, BreakKind.STORE_MISSING, "the event store is missing")
            )
        return _verdict(application, 0, 0, trusted, 0, breaks, anchor, b"")
    walk = _Walk(application, log)
    if resumed is not None:
        walk.resume(resumed)
    for content in trusted:
        breaks += walk.through_seal(content)
    breaks += walk.tail()
    return _verdict(
        application,
        walk.events,
        walk.last_position,
        trusted,
        walk.unsealed,
        breaks,
        anchor,
        walk.digest,
        resumed_after=resumed.after_position if resumed else 0,
    )


def _kept(
    anchor: SealAnchor, seals: Sequence[StoredSeal], verifier: SignatureVerifier
) -> SealContent | None:
    """The stored seal the anchor names, if it is still there unchanged and verifies."""
    for seal in seals:
        content = seal.content
        if content is None or content.sequence != anchor.sequence:
            continue
        if (
            content.seal_hash().hex() == anchor.seal_hash
            and content.application == anchor.application
            and not content.problems()
            and verifier.verify(content.key_id, content.payload(), seal.signature)
        ):
            return content
    return None


def _verdict(
    application: str,
    events: int,
    last_position: int,
    trusted: Sequence[SealContent],
    unsealed: int,
    breaks: list[ChainBreak],
    anchor: SealAnchor | None,
    digest: bytes,
    *,
    resumed_after: int = 0,
) -> ChainVerdict:
    ordered = sorted(breaks, key=break_order)
    return ChainVerdict(
        application=application,
        events=events,
        last_position=last_position,
        seals=len(trusted),
        sealed_through=trusted[-1].last_position if trusted else 0,
        unsealed=unsealed,
        breaks=tuple(ordered[:MAX_BREAKS]),
        unlisted_breaks=max(0, len(ordered) - MAX_BREAKS),
        latest_seal=anchor,
        head_digest=digest.hex(),
        resumed_after=resumed_after,
    )


def _trusted_seals(
    application: str,
    seals: Sequence[StoredSeal],
    verifier: SignatureVerifier,
    *,
    after_sequence: int = 0,
) -> tuple[list[SealContent], list[ChainBreak]]:
    """The seals that verify, in order, and the breaks in the chain of seals (which starts
    after seal number ``after_sequence``: 0, or the one before a kept anchor's)."""
    trusted: list[SealContent] = []
    breaks: list[ChainBreak] = []
    accounted = {seal.version - 1 for seal in seals}
    accounted |= {seal.content.sequence for seal in seals if seal.content}

    def position_after_trusted() -> int:
        return trusted[-1].last_position + 1 if trusted else 1

    for seal in sorted(seals, key=lambda s: s.version):
        content = seal.content
        if content is None:
            breaks.append(
                ChainBreak(
                    application,
                    position_after_trusted(),
                    BreakKind.SEAL_UNREADABLE,
                    f"seal #{seal.version - 1}: {seal.problem}",
                )
            )
            continue
        span = f"{content.after_position + 1}-{content.last_position}"
        label = f"seal #{content.sequence} (positions {span})"
        malformed = content.problems()
        if content.application != application:
            malformed.append("it names another application")
        if malformed or not verifier.verify(content.key_id, content.payload(), seal.signature):
            detail = (
                "; ".join(malformed)
                or f"its signature does not verify under a trusted key (key {content.key_id})"
            )
            breaks.append(
                ChainBreak(
                    application,
                    content.after_position + 1,
                    BreakKind.SEAL_FORGED,
                    f"{label}: {detail}",
                )
            )
            continue
        previous = trusted[-1] if trusted else None
        last_sequence = previous.sequence if previous else after_sequence
        if content.sequence <= last_sequence:
            breaks.append(
                ChainBreak(
                    application,
                    content.after_position + 1,
                    BreakKind.SEAL_CHAIN_BROKEN,
                    f"{label} repeats or precedes seal #{last_sequence}",
                )
            )
            continue
        missing = [s for s in range(last_sequence + 1, content.sequence) if s not in accounted]
        if missing:
            breaks.append(
                ChainBreak(
                    application,
                    position_after_trusted(),
                    BreakKind.SEAL_MISSING,
                    f"seal(s) #{missing[0]}-{missing[-1]} before {label} are missing",
                )
            )
        elif (
            previous is not None
            and content.sequence == last_sequence + 1
            and not (
                content.previous_seal == previous.seal_hash()
                and content.start_digest == previous.end_digest
                and content.after_position == previous.last_position
            )
        ):
            breaks.append(
                ChainBreak(
                    application,
                    content.after_position + 1,
                    BreakKind.SEAL_CHAIN_BROKEN,
                    f"{label} does not continue seal #{previous.sequence}",
                )
            )
        trusted.append(content)
    return trusted, breaks


def _anchor_breaks(
    application: str, trusted: Sequence[SealContent], anchors: Iterable[SealAnchor]
) -> list[ChainBreak]:
    breaks = []
    by_sequence = {content.sequence: content for content in trusted}
    for anchor in anchors:
        found = by_sequence.get(anchor.sequence)
        if found is not None and found.seal_hash().hex() == anchor.seal_hash:
            continue
        before = [c.last_position for c in trusted if c.sequence < anchor.sequence]
        breaks.append(
            ChainBreak(
                application,
                max(before, default=0) + 1,
                BreakKind.ANCHOR_MISSING,
                f"the kept seal #{anchor.sequence} (through position {anchor.last_position}) "
                + ("differs from the stored one" if found else "is no longer in the store"),
            )
        )
    return breaks


class _Walk:
    """Reads one log once, in order, comparing each sealed segment with its seal."""

    def __init__(self, application: str, log: ApplicationRecorder) -> None:
        self._application = application
        self._log = log
        self.digest = genesis(application)
        self.cursor = 0
        self.events = 0
        self.unsealed = 0
        self.last_position = 0

    def resume(self, content: SealContent) -> None:
        """Start at the beginning of a trusted seal's segment, with its start digest."""
        self.cursor = content.after_position
        self.digest = content.start_digest

    def _read(self, after: int, upto: int | None) -> list[tuple[int, bytes]]:
        entries = [(n.id, link_of(n)) for n in notifications(self._log, after=after, upto=upto)]
        self.events += len(entries)
        if entries:
            self.last_position = max(self.last_position, entries[-1][0])
        return entries

    def through_seal(self, content: SealContent) -> list[ChainBreak]:
        breaks: list[ChainBreak] = []
        if content.after_position < self.cursor:
            return breaks  # overlaps a seal already walked: reported as a broken chain of seals
        uncovered = self._read(self.cursor, content.after_position)
        for position, link in uncovered:
            self.digest = chain_step(self.digest, position, link)
        if self.digest != content.start_digest and (uncovered or self.cursor == 0):
            first = uncovered[0][0] if uncovered else content.after_position + 1
            breaks.append(
                ChainBreak(
                    self._application,
                    first,
                    BreakKind.SEGMENT_MISMATCH,
                    f"the events after position {self.cursor} up to {content.after_position} "
                    f"do not chain to seal #{content.sequence}; their own seal is missing, so "
                    "the exact position cannot be named",
                )
            )
        self.digest = content.start_digest
        actual = self._read(content.after_position, content.last_position)
        found = compare_segment(self._application, content, actual)
        for position, link in actual:
            self.digest = chain_step(self.digest, position, link)
        if not found and self.digest != content.end_digest:
            found.append(
                ChainBreak(
                    self._application,
                    content.last_position,
                    BreakKind.MODIFIED,
                    f"the chain digest at the end of seal #{content.sequence} differs",
                )
            )
        breaks += found
        self.digest = content.end_digest
        self.cursor = content.last_position
        return breaks

    def tail(self) -> list[ChainBreak]:
        rest = self._read(self.cursor, None)
        for position, link in rest:
            self.digest = chain_step(self.digest, position, link)
        self.unsealed = len(rest)
        return []


def compare_segment(
    application: str, content: SealContent, actual: Sequence[tuple[int, bytes]]
) -> list[ChainBreak]:
    """Compare the events now in a sealed segment with what the seal kept, by position and by
    content (truncated link digest), and name each difference."""
    expected = content.expected()
    sealed_at = {link: position for position, link in expected.items()}
    now = {position: link[:LINK_BYTES] for position, link in actual}
    now_at = {link: position for position, link in now.items()}
    breaks = []
    for position, link in now.items():
        wanted = expected.get(position)
        if wanted == link:
            continue
        if link in sealed_at:
            kind, detail = (
                BreakKind.REORDERED,
                f"holds the event sealed at position {sealed_at[link]}",
            )
        elif wanted is not None and wanted not in now_at:
            kind, detail = BreakKind.MODIFIED, "the event differs from the sealed one"
        else:
            kind, detail = BreakKind.INSERTED, "no seal vouches for this event"
        breaks.append(ChainBreak(application, position, kind, detail))
    for position, link in expected.items():
        if position not in now and link not in now_at:
            breaks.append(
                ChainBreak(application, position, BreakKind.DELETED, "the sealed event is gone")
            )
    return sorted(breaks, key=break_order)
