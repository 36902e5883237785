"""Promises about the project itself: the README's two commands, CI, and the ADRs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_starts_with_exactly_the_two_setup_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert first_block is not None
    assert text.index("```sh") < text.index("\n## ")
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make run", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "make test" in [line.strip() for line in lines]


def test_every_adr_has_a_status_and_a_confirmation_line() -> None:
    adrs = sorted((ROOT / "ADR").glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert len(adrs) >= 7
    for adr in adrs:
        text = adr.read_text()
        assert "- Status:" in text, adr.name
        assert "**Confirmation:**" in text, adr.name


def test_the_domain_imports_only_eventsourcing_domain_from_the_library() -> None:
    import ast

    found = set()
    for path in (ROOT / "domain").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    library = {name for name in found if name.split(".")[0] == "eventsourcing"}
    assert library == {"eventsourcing.domain"}
