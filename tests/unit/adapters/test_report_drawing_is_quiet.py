"""Drawing the report writes nothing of matplotlib's into the service's log, even on a first
start (a fresh configuration directory: its font cache is built anew), at DEBUG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import logging, warnings
logging.basicConfig(level=logging.DEBUG)
warnings.simplefilter("error")
from tests.unit.audit.test_monthly_report import build, november_queries
from adapters.reporting.html_report import render_html
page = render_html(build(november_queries()))
assert page.count('src="data:image/svg+xml;base64,') == 2
print("drawn")
"""


def test_drawing_the_report_logs_nothing_of_matplotlib_s(tmp_path: Path) -> None:
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "matplotlib")}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[3],
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "drawn"
    assert "matplotlib" not in result.stderr.lower(), result.stderr[-3000:]
