"""The README's one-machine run: ``ssbtek simulate-providers`` and ``ssbtek serve --providers
v10``, two processes, and a query through ``ssbtek query``: every provider is asked over its
v10 contract on the wire, and a SOAP fault injected for Migrationsverket comes back as that
provider's own error (BT)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.processes import SSBTEK, stop

pytestmark = pytest.mark.e2e
_SIMULATORS = re.compile(r"simulated base services \(v10 contracts\) on (http://[\d.]+:\d+)")
_SERVING = re.compile(r"serving on ([\d.]+:\d+)")


def _started(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _found(pattern: re.Pattern[str], log: Path, process: subprocess.Popen[bytes]) -> str:
    until = time.monotonic() + 60
    while time.monotonic() < until:
        match = pattern.search(log.read_text(errors="replace"))
        if match:
            return match.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture
def target(tmp_path: Path) -> Iterator[str]:
    env = {**os.environ, "SSBTEK_DATA_DIR": str(tmp_path / "var"), "SSBTEK_LOG_FORMAT": "text"}
    options = "latency=none,MIGRATIONSVERKET.fault=soap_fault"
    simulators = _started(
        [SSBTEK, "simulate-providers", "--listen", "127.0.0.1:0", "--options", options],
        tmp_path / "simulators.log",
        env,
    )
    try:
        url = _found(_SIMULATORS, tmp_path / "simulators.log", simulators)
        serve = [SSBTEK, "serve", "--store", "memory", "--port", "0", "--metrics-listen", ""]
        server = _started(
            [*serve, "--providers", "v10", "--provider-options", f"url={url}"],
            tmp_path / "server.log",
            env,
        )
        try:
            yield _found(_SERVING, tmp_path / "server.log", server)
        finally:
            stop(server)
    finally:
        stop(simulators)


def test_a_query_is_answered_over_the_providers_v10_contracts(target: str) -> None:
    query = [SSBTEK, "query", "--target", target, "--organisation", "212000-0142"]
    query += ["--caseworker", "HL000001", "--case", "EKB-2026-0001", "--json", "19121212-1212"]
    done = subprocess.run(query, capture_output=True, check=True, timeout=60)
    (subject,) = json.loads(done.stdout)["subjects"]
    outcomes = {part["provider"]: part for part in subject["parts"]}
    assert len(outcomes) == 8
    failed = outcomes.pop("PROVIDER_MIGRATIONSVERKET")
    assert failed["outcome"] == "OUTCOME_KIND_ERROR"
    assert (failed["error"]["source"], failed["error"]["code"]) == (
        "ERROR_SOURCE_BT",
        "SOAP_SERVER",
    )
    for provider, part in outcomes.items():
        allowed = {"OUTCOME_KIND_ANSWERED", "OUTCOME_KIND_NO_DATA"}
        if provider == "PROVIDER_TRANSPORTSTYRELSEN":
            allowed.add("OUTCOME_KIND_CLOSED")  # outside its opening hours
        assert part["outcome"] in allowed, (provider, part)
    answered = outcomes["PROVIDER_PENSIONSMYNDIGHETEN"]
    assert answered["outcome"] == "OUTCOME_KIND_ANSWERED"  # 1912: a pensioner, over Lefi
