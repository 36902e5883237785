"""The monthly report as an auditor sees it: rendered, opened in headless Chromium at 1280 px.

A month with traffic (fast, slow and late answers, a query that got no answer, a refusal),
a ten-minute stop, a recorded outage and incidents. Chromium (Debian's ``chromium``; ``.ci/run``
installs it) takes a screenshot of the page, and opens a copy of it with a probe script that
writes what the browser measured into the page (``--dump-dom``): the page's and every
element's width against the window, and whether every chart image loaded.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Final

import pytest

from adapters.reporting.html_report import render_html
from application.audit.report_model import MonthlyReport
from application.audit.report_sources import ReportSources
from application.queries import Queries
from domain.providers import Provider
from domain.query.values import CallOutcome, ErrorSource, OutcomeKind
from tests.fakes import FakeClock
from tests.unit.audit.test_monthly_report import (
    Incidents,
    Names,
    Outages,
    answered,
    at,
    build,
    new_runs,
    november_queries,
    record_run,
)

WIDTH: Final = 1280
HEIGHT: Final = 900
FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}",
)
PROBE: Final = """
<script>
window.addEventListener("load", () => {
  const width = document.documentElement.clientWidth;
  const overflowing = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.right > width + 0.5 || box.left < -0.5) {
      overflowing.push(element.tagName + " " + (element.textContent || "").slice(0, 40));
    }
  }
  const images = Array.from(document.images).map((image) => ({
    alt: image.alt, complete: image.complete, width: image.naturalWidth,
    shown: image.getBoundingClientRect().width,
  }));
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    innerWidth: window.innerWidth, clientWidth: width,
    scrollWidth: document.documentElement.scrollWidth, overflowing, images,
  });
  document.body.appendChild(probe);
});
</script>
"""


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("Chromium is not installed: .ci/run installs it (apt-get install chromium)")
    return found


def browse(page: Path, *arguments: str, profile: Path) -> str:
    result = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *arguments, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return result.stdout


def busy_month(queries: Queries) -> MonthlyReport:
    """November with answers from 0.05 s to 14 s, a ten-minute stop on the 16th, the fixture's
    recorded outages, unanswered and refused queries, incidents and named municipalities."""
    failing = CallOutcome(0, OutcomeKind.ERROR, 5600, ErrorSource.SSBT, "TIMEOUT")
    for index, elapsed in enumerate((50, 180, 420, 650, 900, 1300, 2500, 4800, 6900, 11_000)):
        answered(queries, at(17 + index % 5, 9 + index % 8, index), elapsed, latency_ms=elapsed)
    answered(queries, at(23, 14), 14_000, special={Provider.CSN: failing})
    clock = FakeClock(at(31, 20, month=10))
    runs = new_runs(clock)
    record_run(runs, clock, at(31, 20, month=10), at(16, 10))
    record_run(runs, clock, at(16, 10, 10), at(30, 20), every=dt.timedelta(minutes=30))
    sources = ReportSources(outages=Outages(), incidents=Incidents(), organisations=Names())
    return build(queries, sources, runs=runs, now=at(5, 12, month=12))


def test_the_report_fits_a_laptop_window_and_every_chart_loads(tmp_path: Path) -> None:
    report = busy_month(november_queries())
    assert report.availability.not_running_minutes == 10
    page = render_html(report)
    report_file = tmp_path / "report.html"
    report_file.write_text(page, encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")

    screenshot = tmp_path / "report.png"
    browse(report_file, f"--screenshot={screenshot}", profile=tmp_path / "profile-1")
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one

    dom = browse(probed, "--dump-dom", profile=tmp_path / "profile-2")
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match is not None, "the probe did not run"
    measured: dict[str, Any] = json.loads(match.group(1).replace("&quot;", '"'))
    assert measured["innerWidth"] == WIDTH
    assert measured["scrollWidth"] <= measured["clientWidth"]
    assert measured["overflowing"] == []
    images = measured["images"]
    assert len(images) == 2
    for image in images:
        assert image["complete"], image["alt"]
        assert image["width"] > 0, image["alt"]
        assert 0 < image["shown"] <= measured["clientWidth"]
