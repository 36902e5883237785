"""The benchmark suite's smoke test: the ladder runs about a second per rung and writes a
well-formed result file. Speed is never asserted here; `make bench` reports it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_the_ladder_runs_every_rung_and_writes_json_and_markdown(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", "ladder", "--out", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=280,
    )
    (result_file,) = tmp_path.glob("*.json")
    result = json.loads(result_file.read_text())
    ladder = result["ladder"]
    text = json.dumps(ladder)
    for rung in ("L0", "L1", "L2", "L3", "L4"):
        assert f'"{rung}"' in text
    assert result["meta"]["finished"]
    (markdown,) = tmp_path.glob("*.md")
    assert "## The ladder" in markdown.read_text()


@pytest.mark.timeout(300)
def test_the_soap_rung_runs_beside_grpc_and_reports_the_adapter_overhead(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", "soap", "--out", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=280,
    )
    (result_file,) = tmp_path.glob("*.json")
    (soap,) = json.loads(result_file.read_text())["soap"]
    assert [run["entry_point"] for run in soap["runs"]] == ["gRPC", "SOAP v10"]
    for run in soap["runs"]:
        assert run["probe"]["parts"] in (7, 8)  # v10 blocks, or the eight gRPC parts
        assert run["best"]["ok"] > 0
    assert soap["cpu_ms_per_query_overhead"] is not None
    (markdown,) = tmp_path.glob("*.md")
    assert "## The v10 SOAP facade beside gRPC" in markdown.read_text()
