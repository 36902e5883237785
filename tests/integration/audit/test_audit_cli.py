"""``ssbtek audit`` on a copy of the stores, with the service stopped: no server at all."""

from __future__ import annotations

import argparse
import json
import shutil
import uuid
from pathlib import Path

import attrs
import pytest
from eventsourcing.persistence import StoredEvent

from adapters.security.signing import Ed25519Signer, public_key_pem
from infrastructure.audit_cli import add_audit_commands
from infrastructure.composition import open_read_only
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock
from tests.integration.audit.world import (
    EVENTS_PER_QUERY,
    WEDNESDAY_MORNING,
    Attacker,
    ask,
    new_signer,
    open_queries,
    seals_for,
)

Q = EVENTS_PER_QUERY


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ssbtek")
    add_audit_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


@attrs.frozen
class Copy:
    settings: Settings
    options: tuple[str, ...]
    public_key: Path
    signer: Ed25519Signer


@pytest.fixture
async def copy(durable_store_settings: Settings, tmp_path: Path) -> Copy:
    """Three queries, sealed, the service stopped; SQLite's files copied elsewhere."""
    settings = durable_store_settings
    clock = FakeClock(WEDNESDAY_MORNING)
    signer = new_signer()
    queries, seals = open_queries(settings, clock), seals_for(settings, signer, clock)
    try:
        await ask(queries, clock, 2)
        seals.seal("queries", queries.recorder)
        await ask(queries, clock, 1)
        seals.seal("queries", queries.recorder)
    finally:
        queries.close()
        seals.close()
    key = tmp_path / "audit-public.pem"
    key.write_bytes(public_key_pem(signer.public_key))
    if settings.store is Store.SQLITE:
        copied = tmp_path / "copy"
        copied.mkdir()
        for store in settings.data_dir.glob("*.sqlite3*"):  # the stores only, as README says
            shutil.copy2(store, copied)
        settings = attrs.evolve(settings, data_dir=copied)
        options: tuple[str, ...] = ("--data-dir", str(copied))
    else:
        options = ("--store", "postgres", "--postgres-dbname", settings.postgres.dbname)
    return Copy(settings, options, key, signer)


def test_verify_on_an_untouched_copy_says_intact_and_exits_zero(
    copy: Copy, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("audit", "verify", *copy.options, "--public-key", str(copy.public_key)) == 0
    out = capsys.readouterr().out
    assert "INTACT" in out
    assert "every event is sealed" in out


def test_verify_on_a_tampered_copy_names_the_first_break_and_exits_non_zero(
    copy: Copy, capsys: pytest.CaptureFixture[str]
) -> None:
    Attacker(copy.settings).delete(10)
    code = run_cli("audit", "verify", *copy.options, "--public-key", str(copy.public_key))
    assert code == 1
    out = capsys.readouterr().out
    assert "BROKEN" in out
    assert "position 10 (DELETED)" in out


def test_verify_refuses_to_guess_a_public_key(copy: Copy) -> None:
    assert run_cli("audit", "verify", *copy.options) == 2


def test_an_anchor_kept_from_an_earlier_verification_catches_a_deleted_newest_seal(
    copy: Copy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = ("--public-key", str(copy.public_key))
    assert run_cli("audit", "verify", *copy.options, *key, "--json") == 0
    anchor = tmp_path / "anchor.json"
    anchor.write_text(capsys.readouterr().out)
    seals = Attacker(copy.settings, "auditseals")
    seals.delete(max(r[0] for r in seals.rows()))
    assert run_cli("audit", "verify", *copy.options, *key) == 0  # undetectable without it
    assert run_cli("audit", "verify", *copy.options, *key, "--require-sealed") == 1
    assert run_cli("audit", "verify", *copy.options, *key, "--anchor", str(anchor)) == 1
    assert "ANCHOR_MISSING" in capsys.readouterr().out


def test_verify_from_the_kept_anchor_reads_only_from_its_seal_and_still_finds_a_later_change(
    copy: Copy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = ("--public-key", str(copy.public_key))
    assert run_cli("audit", "verify", *copy.options, *key, "--json") == 0
    anchor = tmp_path / "anchor.json"
    anchor.write_text(capsys.readouterr().out)
    resume = ("--anchor", str(anchor), "--from-anchor", "--json")
    assert run_cli("audit", "verify", *copy.options, *key, *resume) == 0
    (chain,) = [c for c in json.loads(capsys.readouterr().out)["chains"] if c["events"]]
    assert chain["resumed_after_position"] == 2 * Q  # the second seal covers the third query
    assert chain["events"] == Q
    Attacker(copy.settings).delete(2 * Q + 1)
    assert run_cli("audit", "verify", *copy.options, *key, *resume) == 1
    assert run_cli("audit", "verify", *copy.options, *key, "--from-anchor") == 2  # no anchor


def test_replay_on_a_copy_writes_every_stored_event_as_a_json_line(
    copy: Copy, tmp_path: Path
) -> None:
    output = tmp_path / "events.jsonl"
    assert run_cli("audit", "replay", *copy.options, "--output", str(output)) == 0
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    rows = Attacker(copy.settings).rows()
    assert [
        (e["position"], e["originator_id"], e["originator_version"], e["topic"]) for e in lines
    ] == [(p, str(uuid.UUID(str(o))), v, t) for p, o, v, t, _ in rows]
    assert [e["state"] for e in lines] == [json.loads(s) for *_, s in rows]
    assert lines[0]["timestamp"] == "2026-11-25T08:30:00+00:00"

    received = tmp_path / "received.jsonl"
    options = (
        "--event-type",
        "Query.Received",
        "--after",
        f"queries={Q}",
        "--output",
        str(received),
    )
    assert run_cli("audit", "replay", *copy.options, *options) == 0
    assert [json.loads(x)["position"] for x in received.read_text().splitlines()] == [
        Q + 1,
        2 * Q + 1,
    ]


def test_export_key_prints_the_public_key_that_verifies_the_seals(
    copy: Copy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography.hazmat.primitives import serialization

    private = tmp_path / "seal.key"
    private.write_bytes(
        copy.signer._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    capsys.readouterr()
    assert run_cli("audit", "export-key", *copy.options, "--signing-key-file", str(private)) == 0
    exported = capsys.readouterr().out
    assert exported.startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in exported
    (tmp_path / "exported.pem").write_text(exported)
    key = ("--public-key", str(tmp_path / "exported.pem"))
    assert run_cli("audit", "verify", *copy.options, *key) == 0


def test_report_on_a_copy_writes_json_and_an_html_page(
    copy: Copy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    assert (
        run_cli("report", "monthly", "2026-11", *copy.options, "--json", "--html", str(page)) == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert document["usage"]["queries"] == 3
    assert document["performance"]["answered_queries"] == 3
    assert document["availability"]["percentage"] is None  # this copy has no ServiceRuns store
    html = page.read_text()
    assert html.count('src="data:image/svg+xml;base64,') == 1  # latency; no availability chart
    assert "No evidence of the service's running time covers any of this month" in html


def test_the_copy_is_opened_read_only(copy: Copy) -> None:
    store = open_read_only(copy.settings, "queries")
    assert store is not None
    try:
        assert store.recorder.max_notification_id() == 3 * Q
        forged = StoredEvent(uuid.uuid4(), 1, "forged:Event", b"{}")
        with pytest.raises(Exception, match=r"read-only|readonly"):
            store.recorder.insert_events([forged])
    finally:
        store.close()
    assert len(Attacker(copy.settings).rows()) == 3 * Q


def test_export_key_on_a_copy_without_a_configured_key_fails_and_writes_nothing(
    copy: Copy,
) -> None:
    before = sorted(p.name for p in copy.settings.data_dir.glob("*"))
    assert run_cli("audit", "export-key", *copy.options) == 2
    assert sorted(p.name for p in copy.settings.data_dir.glob("*")) == before


def test_a_directory_without_any_store_is_an_error_not_an_intact_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "not-a-copy"
    empty.mkdir()
    key = tmp_path / "key.pem"
    key.write_bytes(public_key_pem(new_signer().public_key))
    assert run_cli("audit", "verify", "--data-dir", str(empty), "--public-key", str(key)) == 2
    assert "no event store" in capsys.readouterr().err
    assert list(empty.iterdir()) == []


def test_replay_by_caller_on_a_copy(copy: Copy, tmp_path: Path) -> None:
    """``--caller``: the events of the queries an organisation made, as its certificate proved
    it (ADR 24); a received query's caller is its asking organisation."""
    asked, nobody = tmp_path / "asked.jsonl", tmp_path / "nobody.jsonl"
    by_caller = ("audit", "replay", *copy.options, "--event-type", "Query.Received")
    assert run_cli(*by_caller, "--caller", "212000-0142", "--output", str(asked)) == 0
    assert run_cli(*by_caller, "--caller", "212000-0159", "--output", str(nobody)) == 0
    assert [json.loads(x)["position"] for x in asked.read_text().splitlines()] == [
        1,
        Q + 1,
        2 * Q + 1,
    ]
    assert nobody.read_text() == ""
