"""After the other end-to-end tests: nothing personal on disk or in the log, audit complete.

Named to run last in this folder, over what the earlier tests sent.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests import canaries
from tests.e2e import test_vendor_clients as vendor
from tests.e2e.conftest import RunningServer
from tests.e2e.test_query_service_over_grpc import CASE_ID, CASEWORKER_ID, SEEN_IN_ANSWERS, SUBJECTS

pytestmark = pytest.mark.e2e


def test_no_subject_case_caseworker_or_answer_value_is_on_disk_or_in_the_log(
    server: RunningServer,
) -> None:
    assert SEEN_IN_ANSWERS, "the earlier tests must have seen provider answers to hunt for"
    hunted = [form for s in (*SUBJECTS, vendor.SUBJECT) for form in canaries.forms(s)]
    hunted += [CASE_ID, CASEWORKER_ID, *SEEN_IN_ANSWERS, vendor.CASE_ID, vendor.CASEWORKER_ID]
    files = [p for p in server.data_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("queries.sqlite3") for p in files)
    stored = b"".join(p.read_bytes() for p in files)
    log = server.log_text()
    assert "SubmitQuery OK" in log  # the access log was written, at DEBUG level too
    for value in hunted:
        assert value.encode() not in stored, "a personal value was stored"
        assert value not in log, "a personal value was logged"


def test_the_audit_trail_of_every_answered_query_is_complete(server: RunningServer) -> None:
    with sqlite3.connect(server.data_dir / "queries.sqlite3") as db:
        rows = db.execute("SELECT topic FROM stored_events ORDER BY rowid").fetchall()
    topics = [t.split(":")[-1] for (t,) in rows]
    answered = topics.count("Query.Received")
    assert answered >= 5
    assert topics.count("Query.Compiled") == answered
    assert topics.count("Query.Delivered") == answered
    assert topics.count("Query.CaseDataErased") == answered
    assert topics.count("Query.Rejected") >= 9


def test_the_metrics_endpoint_counts_the_queries_and_the_log_is_json_lines(
    server: RunningServer,
) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(server.metrics_url, timeout=5) as response:
        scraped = response.read().decode()
    answered = [
        line
        for line in scraped.splitlines()
        if line.startswith('ssbtek_queries_total{entry_point="GRPC",outcome="ANSWERED"}')
    ]
    assert answered
    assert float(answered[0].split()[-1]) >= 5
    assert 'ssbtek_queries_total{entry_point="GRPC",outcome="INVALID_ARGUMENT"}' in scraped
    assert 'ssbtek_provider_call_duration_seconds_count{provider="CSN"}' in scraped
    records = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    answered_logs = [r for r in records if r.get("event") == "query answered"]
    assert answered_logs
    assert all({"query_id", "elapsed_ms", "timestamp", "level"} <= set(r) for r in answered_logs)


def test_an_auditor_replays_and_verifies_the_running_service_without_seeing_personal_data(
    server: RunningServer,
) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    ssbtek = str(Path(sys.executable).parent / "ssbtek")
    replayed = subprocess.run(
        [ssbtek, "audit", "replay", "--target", server.target, "--application", "queries"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    events = [json.loads(line) for line in replayed.splitlines() if line.strip()]
    assert sum(1 for e in events if e["topic"].endswith("Query.Received")) >= 5
    for value in [form for s in SUBJECTS for form in canaries.forms(s)] + [CASE_ID, CASEWORKER_ID]:
        assert value not in replayed
    verdict = subprocess.run(
        [ssbtek, "audit", "verify", "--target", server.target, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
