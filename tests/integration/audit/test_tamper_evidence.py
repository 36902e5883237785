"""Tamper evidence on real stores: raw SQL changes to a sealed log are found, at their position.

Each test seals a Queries log of nine real queries (four events each: 36 events, two
seals: positions 1-24 and 25-36), then plays an attacker with database access (SQLite
file or PostgreSQL, raw SQL), and verifies the log as an auditor does: the stores opened
read-only, the seals checked with the public key only.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import attrs
import pytest

from adapters.security.signing import Ed25519Signer
from application.audit.verdict import AuditVerdict, BreakKind, ChainBreak, SealAnchor
from infrastructure.settings import Settings
from tests.fakes import FakeClock
from tests.integration.audit.world import (
    WEDNESDAY_MORNING,
    Attacker,
    ask,
    copy_of,
    new_signer,
    open_queries,
    seals_for,
)

FORGED_TOPIC = "domain.query.aggregate:Query.Rejected"
FORGED_STATE = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-25T09:31:00+01:00"},'
    b'"originator_topic":"domain.query.aggregate:Query","asking_organisation":"2120000142",'
    b'"reason":{"_type_":"ssbtek.rejection_reason","_data_":"INVALID_ARGUMENT"},"fields":[]}'
)


@pytest.fixture
async def sealed(durable_store_settings: Settings) -> tuple[Settings, Ed25519Signer]:
    settings = durable_store_settings
    clock = FakeClock(WEDNESDAY_MORNING)
    signer = new_signer()
    queries = open_queries(settings, clock)
    seals = seals_for(settings, signer, clock)
    try:
        await ask(queries, clock, 6)
        assert [s.last_position for s in seals.seal("queries", queries.recorder)] == [24]
        await ask(queries, clock, 3)
        assert [s.last_position for s in seals.seal("queries", queries.recorder)] == [36]
        assert seals.seal("queries", queries.recorder) == []  # nothing new: no seal
    finally:
        queries.close()
        seals.close()
    return settings, signer


def verify(settings: Settings, signer: Ed25519Signer, **options: object) -> AuditVerdict:
    with copy_of(settings, signer) as trail:
        return trail.verify(**options)  # type: ignore[arg-type]


def first(verdict: AuditVerdict) -> ChainBreak:
    assert not verdict.intact
    found = verdict.first_break
    assert found is not None
    return found


def test_an_untouched_store_verifies(sealed: tuple[Settings, Ed25519Signer]) -> None:
    verdict = verify(*sealed)
    assert verdict.intact
    (chain,) = verdict.chains
    assert (chain.application, chain.events, chain.seals) == ("queries", 36, 2)
    assert (chain.sealed_through, chain.unsealed) == (36, 0)


def test_an_auditor_can_recompute_the_sealed_digest_from_the_raw_rows_with_sha256_alone(
    sealed: tuple[Settings, Ed25519Signer],
) -> None:
    """The encoding of ADR 0011, written out here without any project code."""

    def frame(*fields: bytes) -> bytes:
        return b"".join(len(f).to_bytes(8, "big") + f for f in fields)

    def sha(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    settings, signer = sealed
    digest = sha(frame(b"ssbtek.audit.genesis.v1", b"queries"))
    for position, originator, version, topic, state in Attacker(settings).rows():
        originator_id = str(uuid.UUID(str(originator)))  # SQLite keeps 32 hex digits
        link = sha(
            frame(
                b"ssbtek.audit.event.v1",
                topic.encode(),
                originator_id.encode(),
                version.to_bytes(8, "big"),
                state,
            )
        )
        digest = sha(frame(b"ssbtek.audit.chain.v1", digest, position.to_bytes(8, "big"), link))
    (chain,) = verify(settings, signer).chains
    assert chain.head_digest == digest.hex()
    with copy_of(settings, signer) as trail:
        seals = trail._seals.stored_seals("queries")
    content = seals[-1].content
    assert content is not None
    assert content.end_digest == digest


@pytest.mark.parametrize("position", [5, 30])
def test_a_changed_state_is_found_at_its_exact_position(
    sealed: tuple[Settings, Ed25519Signer], position: int
) -> None:
    settings, signer = sealed
    attacker = Attacker(settings)
    state = attacker.rows()[position - 1][4]
    assert b'"timestamp"' in state
    attacker.update_state(position, state.replace(b'"timestamp"', b'"timestamp" ', 1))
    found = first(verify(settings, signer))
    assert (found.position, found.kind) == (position, BreakKind.MODIFIED)


def test_a_deleted_event_is_found_at_its_position(sealed: tuple[Settings, Ed25519Signer]) -> None:
    settings, signer = sealed
    Attacker(settings).delete(7)
    verdict = verify(settings, signer)
    found = first(verdict)
    assert (found.position, found.kind) == (7, BreakKind.DELETED)
    assert [b.position for b in verdict.chains[0].breaks] == [7]  # nothing else is blamed


def test_an_inserted_event_is_found_at_its_position(sealed: tuple[Settings, Ed25519Signer]) -> None:
    settings, signer = sealed
    Attacker(settings).insert_at(10, FORGED_TOPIC, FORGED_STATE)
    found = first(verify(settings, signer))
    assert (found.position, found.kind) == (10, BreakKind.INSERTED)


def test_two_swapped_events_are_found_as_reordered(sealed: tuple[Settings, Ed25519Signer]) -> None:
    settings, signer = sealed
    Attacker(settings).swap(3, 8)
    verdict = verify(settings, signer)
    found = first(verdict)
    assert (found.position, found.kind) == (3, BreakKind.REORDERED)
    assert [(b.position, b.kind) for b in verdict.chains[0].breaks] == [
        (3, BreakKind.REORDERED),
        (8, BreakKind.REORDERED),
    ]


def test_truncating_sealed_events_is_found_where_the_truncation_starts(
    sealed: tuple[Settings, Ed25519Signer],
) -> None:
    settings, signer = sealed
    attacker = Attacker(settings)
    for position in range(30, 37):
        attacker.delete(position)
    found = first(verify(settings, signer))
    assert (found.position, found.kind) == (30, BreakKind.DELETED)


def test_seals_signed_with_another_key_are_forged(sealed: tuple[Settings, Ed25519Signer]) -> None:
    settings, _ = sealed
    found = first(verify(settings, new_signer()))
    assert (found.position, found.kind) == (1, BreakKind.SEAL_FORGED)


def test_a_seal_whose_digest_was_altered_is_forged(sealed: tuple[Settings, Ed25519Signer]) -> None:
    settings, signer = sealed
    seals = Attacker(settings, "auditseals")
    position, *_, state = next(
        r for r in seals.rows() if r[3].endswith("SealChain.Sealed") and b'"sequence":2' in r[4]
    )
    document = json.loads(state)
    digest = document["end_digest"]
    document["end_digest"] = ("0" if digest[0] != "0" else "1") + digest[1:]
    seals.update_state(position, json.dumps(document).encode())
    found = first(verify(settings, signer))
    assert (found.position, found.kind) == (25, BreakKind.SEAL_FORGED)


def test_deleting_the_newest_seal_is_found_only_against_a_kept_anchor(
    sealed: tuple[Settings, Ed25519Signer],
) -> None:
    settings, signer = sealed
    anchor = verify(settings, signer).chains[0].latest_seal
    assert anchor is not None
    assert anchor.sequence == 2
    seals = Attacker(settings, "auditseals")
    newest = max(r[0] for r in seals.rows() if r[3].endswith("SealChain.Sealed"))
    seals.delete(newest)
    Attacker(settings).delete(36)  # and the tail it covered

    without_anchor = verify(settings, signer)
    assert without_anchor.intact  # what an attacker with database access can do undetected
    assert without_anchor.chains[0].unsealed == 11

    found = first(verify(settings, signer, anchors=[anchor]))
    assert (found.position, found.kind) == (25, BreakKind.ANCHOR_MISSING)


async def test_a_missing_middle_seal_is_found_and_its_events_still_checked_by_the_chain(
    durable_store_settings: Settings,
) -> None:
    settings = durable_store_settings
    clock = FakeClock(WEDNESDAY_MORNING)
    signer = new_signer()
    queries, seals = open_queries(settings, clock), seals_for(settings, signer, clock)
    try:
        for _ in range(3):
            await ask(queries, clock, 3)
            seals.seal("queries", queries.recorder)  # seals 1-12, 13-24, 25-36
    finally:
        queries.close()
        seals.close()
    rows = Attacker(settings, "auditseals").rows()
    middle = next(r[0] for r in rows if b'"sequence":2' in r[4])
    Attacker(settings, "auditseals").delete(middle)
    found = first(verify(settings, signer))
    assert (found.position, found.kind) == (13, BreakKind.SEAL_MISSING)

    attacker = Attacker(settings)
    compiled = attacker.rows()[17]  # position 18: the fifth query's Compiled
    assert compiled[3].endswith("Query.Compiled")
    attacker.update_state(18, compiled[4].replace(b"ANSWERED", b"NO_DATA"))
    kinds = [(b.position, b.kind) for b in verify(settings, signer).chains[0].breaks]
    assert set(kinds) == {(13, BreakKind.SEAL_MISSING), (13, BreakKind.SEGMENT_MISMATCH)}


def latest_anchor(settings: Settings, signer: Ed25519Signer) -> SealAnchor:
    (chain,) = verify(settings, signer).chains
    assert chain.latest_seal is not None
    return chain.latest_seal


def test_verification_resumed_from_a_kept_anchor_reads_only_from_that_seal_on(
    sealed: tuple[Settings, Ed25519Signer],
) -> None:
    """ADR 0027: what lies before the kept seal was verified when the anchor was kept."""
    settings, signer = sealed
    anchor = latest_anchor(settings, signer)
    assert (anchor.sequence, anchor.last_position) == (2, 36)
    (chain,) = verify(settings, signer, anchors=[anchor], resume=True).chains
    assert chain.intact
    assert (chain.resumed_after, chain.events, chain.seals, chain.last_position) == (24, 12, 1, 36)
    assert chain.latest_seal == anchor


@pytest.mark.parametrize("position", [25, 30, 36])
def test_a_change_after_the_kept_anchor_is_found_by_the_resumed_verification(
    sealed: tuple[Settings, Ed25519Signer], position: int
) -> None:
    settings, signer = sealed
    anchor = latest_anchor(settings, signer)
    attacker = Attacker(settings)
    state = attacker.rows()[position - 1][4]
    attacker.update_state(position, state.replace(b'"timestamp"', b'"timestamp" ', 1))
    found = first(verify(settings, signer, anchors=[anchor], resume=True))
    assert (found.position, found.kind) == (position, BreakKind.MODIFIED)


def test_a_kept_anchor_that_is_gone_or_differs_falls_back_to_the_whole_log(
    sealed: tuple[Settings, Ed25519Signer],
) -> None:
    settings, signer = sealed
    anchor = latest_anchor(settings, signer)
    forged = attrs.evolve(anchor, seal_hash="00" * 32)
    attacker = Attacker(settings)
    state = attacker.rows()[4][4]
    attacker.update_state(5, state.replace(b'"timestamp"', b'"timestamp" ', 1))
    verdict = verify(settings, signer, anchors=[forged], resume=True)
    (chain,) = verdict.chains
    assert chain.resumed_after == 0  # nothing trusted: the whole log was read
    assert chain.events == 36
    kinds = {(b.position, b.kind) for b in chain.breaks}
    assert (5, BreakKind.MODIFIED) in kinds
    assert any(kind is BreakKind.ANCHOR_MISSING for _, kind in kinds)
    assert verify(settings, signer, anchors=[anchor], resume=True).intact  # before the anchor
