"""The chain's encoding, the rules of a chain of seals, and the Ed25519 keys."""

from __future__ import annotations

import datetime as dt
import hashlib

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from adapters.security.signing import (
    Ed25519Signer,
    Ed25519Verifier,
    KeyFormatError,
    load_public_key,
    load_signing_key,
    new_signing_key_pem,
    public_key_pem,
    raw_public_key,
)
from domain.audit.chain import (
    CHAIN_TAG,
    EVENT_TAG,
    LINK_BYTES,
    chain_digests,
    chain_step,
    frame,
    genesis,
    link_digest,
    parse_positions,
    positions_text,
    u64,
)
from domain.audit.seal_chain import SealChain, SealChainError, seal_chain_id

AT = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def test_fields_are_framed_by_their_length_so_boundaries_cannot_shift() -> None:
    assert frame(b"ab", b"c") == b"\0\0\0\0\0\0\0\x02ab\0\0\0\0\0\0\0\x01c"
    assert frame(b"ab", b"c") != frame(b"a", b"bc")
    assert link_digest("t", "ab", 1, b"c") != link_digest("ta", "b", 1, b"c")


def test_the_link_digest_is_sha256_over_the_documented_encoding() -> None:
    expected = hashlib.sha256(
        b"".join(
            len(field).to_bytes(8, "big") + field
            for field in (
                b"ssbtek.audit.event.v1",
                b"domain.query.aggregate:Query.Delivered",
                b"0b4f7c1e-6a55-4d8e-9b2a-5e1d6f3c2a90",
                (11).to_bytes(8, "big"),
                b'{"elapsed_ms":1200}',
            )
        )
    ).digest()
    assert (
        link_digest(
            "domain.query.aggregate:Query.Delivered",
            "0b4f7c1e-6a55-4d8e-9b2a-5e1d6f3c2a90",
            11,
            b'{"elapsed_ms":1200}',
        )
        == expected
    )


def test_the_chain_depends_on_order_position_and_application() -> None:
    a, b = link_digest("t", "x", 1, b"1"), link_digest("t", "x", 2, b"2")
    start = genesis("queries")
    forward, _ = chain_digests(start, [(1, a), (2, b)])
    assert forward != chain_digests(start, [(1, b), (2, a)])[0]
    assert forward != chain_digests(start, [(1, a), (3, b)])[0]
    assert forward != chain_digests(genesis("parties"), [(1, a), (2, b)])[0]
    assert forward == chain_step(chain_step(start, 1, a), 2, b)


@pytest.mark.parametrize("positions", [(), (1,), (1, 2, 3, 5), (7, 9, 10, 11, 20)])
def test_positions_are_kept_as_compact_ranges(positions: tuple[int, ...]) -> None:
    assert parse_positions(positions_text(positions)) == positions
    assert positions_text((1, 2, 3, 5)) == "1-3,5"


def sealed_chain(signer: Ed25519Signer) -> SealChain:
    chain = SealChain.start("queries", at=AT)
    links = [link_digest("t", "x", p, b"s") for p in (1, 2, 3)]
    end, truncated = chain_digests(genesis("queries"), zip((1, 2, 3), links, strict=True))
    content = chain.next_content(
        positions=(1, 2, 3),
        links=b"".join(truncated),
        end_digest=end,
        sealed_at=AT,
        key_id=signer.key_id,
    )
    chain.seal(content, signer.sign(content.payload()), at=AT)
    return chain


def test_a_seal_continues_its_chain_and_names_the_previous_seal() -> None:
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    chain = sealed_chain(signer)
    assert chain.id == seal_chain_id("queries")
    assert (chain.sequence, chain.last_position) == (1, 3)
    (sealed,) = [e for e in chain.collect_events() if isinstance(e, SealChain.Sealed)]
    first = sealed.content()
    assert len(first.links) == 3 * LINK_BYTES
    assert Ed25519Verifier([signer.public_key]).verify(
        first.key_id, first.payload(), bytes.fromhex(sealed.signature)
    )
    second = chain.next_content(
        positions=(4,), links=b"\0" * LINK_BYTES, end_digest=b"\1" * 32, sealed_at=AT, key_id="k"
    )
    assert (second.sequence, second.after_position) == (2, 3)
    assert second.previous_seal == first.seal_hash()
    assert second.start_digest == first.end_digest


def test_a_seal_that_does_not_continue_the_chain_is_refused() -> None:
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    chain = sealed_chain(signer)
    good = chain.next_content(
        positions=(4,), links=b"\0" * LINK_BYTES, end_digest=b"\1" * 32, sealed_at=AT, key_id="k"
    )
    for change in (
        {"sequence": 3},
        {"after_position": 2},
        {"positions": (3,)},
        {"start_digest": b"\2" * 32},
        {"previous_seal": b""},
        {"application": "parties"},
        {"links": b""},
    ):
        with pytest.raises(SealChainError):
            chain.seal(attrs.evolve(good, **change), b"signature", at=AT)
    with pytest.raises(SealChainError):
        chain.seal(good, b"", at=AT)


def test_signatures_verify_only_under_the_key_that_made_them_and_only_unaltered() -> None:
    signer, other = (Ed25519Signer(Ed25519PrivateKey.generate()) for _ in range(2))
    signature = signer.sign(b"payload")
    verifier = Ed25519Verifier([signer.public_key])
    assert verifier.verify(signer.key_id, b"payload", signature)
    assert not verifier.verify(signer.key_id, b"payloaD", signature)
    assert not verifier.verify(other.key_id, b"payload", other.sign(b"payload"))
    assert not verifier.verify(signer.key_id, b"payload", other.sign(b"payload"))


def test_keys_load_from_pem_hex_or_raw_bytes_and_the_public_key_exports() -> None:
    pem = new_signing_key_pem()
    key = load_signing_key(pem)
    raw = key.private_bytes_raw()
    public = key.public_key()
    for form in (raw, raw.hex().encode(), raw.hex().encode() + b"\n"):
        assert raw_public_key(load_signing_key(form).public_key()) == raw_public_key(public)
    for form in (public_key_pem(public), raw_public_key(public).hex().encode()):
        assert raw_public_key(load_public_key(form)) == raw_public_key(public)
    with pytest.raises(KeyFormatError):
        load_signing_key(b"not a key")
    with pytest.raises(KeyFormatError):
        load_public_key(public_key_pem(public).replace(b"A", b"B", 3))
    assert repr(Ed25519Signer(key)).startswith("Ed25519Signer(key_id=")
    assert raw.hex() not in repr(Ed25519Signer(key))


@given(
    topic=st.text(max_size=60),
    originator_id=st.text(max_size=40),
    version=st.integers(min_value=0, max_value=2**64 - 1),
    state=st.binary(max_size=200),
    previous=st.binary(min_size=32, max_size=32),
    position=st.integers(min_value=0, max_value=2**64 - 1),
)
def test_the_fast_digests_hash_exactly_the_framed_definition(
    topic: str, originator_id: str, version: int, state: bytes, previous: bytes, position: int
) -> None:
    """ADR 0011's definitions, computed the plain way, against the precomputed-parts way."""
    plain_link = hashlib.sha256(
        frame(EVENT_TAG, topic.encode(), originator_id.encode(), u64(version), state)
    ).digest()
    assert link_digest(topic, originator_id, version, state) == plain_link
    assert (
        chain_step(previous, position, plain_link)
        == hashlib.sha256(frame(CHAIN_TAG, previous, u64(position), plain_link)).digest()
    )
