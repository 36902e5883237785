"""Every ADR's confirmation names a check that exists: each file path in backticks after
``**Confirmation:**`` is a file of the repository, and each ``file.py::test`` names a test
defined in it. (Elsewhere an ADR may name files that were, to say what changed.)"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = ("domain", "application", "adapters", "infrastructure", "tests", "bench", "proto", "ADR")
REFERENCE = re.compile(r"`((?:" + "|".join(TOP) + r")/[\w./\-]+)(?:::(\w+))?[^`]*`")


def _confirmations() -> list[tuple[str, str, str | None]]:
    found = []
    for adr in sorted((ROOT / "ADR").glob("[0-9][0-9][0-9][0-9]-*.md")):
        text = adr.read_text()
        confirmation = text[text.index("**Confirmation:**") :]
        found += [(adr.name, m.group(1), m.group(2)) for m in REFERENCE.finditer(confirmation)]
    return found


def test_the_confirmations_name_checks() -> None:
    assert len(_confirmations()) >= 20


def test_every_file_and_test_a_confirmation_names_exists() -> None:
    missing = []
    for adr, path, test in _confirmations():
        file = ROOT / path.rstrip(".")
        if not file.exists():
            missing.append(f"{adr}: {path}")
        elif test and not re.search(rf"\bdef {test}\b", file.read_text()):
            missing.append(f"{adr}: {path}::{test}")
    assert not missing, missing
