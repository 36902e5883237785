"""``ssbtek --help`` and the parsing of every command import no store, key, chart or service
module: each command imports what it uses when it runs (its start-up time is measured in
bench/README.md, "ssbtek --help"). ``ssbtek --help`` imports no command module at all, and
the parsers of ``serve``, ``query``, ``providers``, ``audit``, ``report`` and
``simulate-providers`` need neither grpc, protobuf, rich, attrs nor the settings model;
those of ``party``, ``agreement``, ``incident`` and ``escalation`` only the generated
protobuf messages (issue 12)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "matplotlib",
    "eventsourcing",
    "psycopg",
    "cryptography",
    "structlog",
    "prometheus_client",
    "holidays",
    "infrastructure.composition",
    "infrastructure.service",
)
"""Never imported to parse a command line."""

CLIENT_LIBRARIES = (
    "grpc",
    "google",  # protobuf and the generated messages
    "rich",
    "pydantic",
    "pydantic_settings",
    "limits",
    "attr",
    "attrs",
    "cattrs",
    "domain",
    "application",
    "adapters",
    "infrastructure.settings",
    "infrastructure.variables",
    "infrastructure.client",
    "infrastructure.audit_cli",
)
"""Not imported by the light parsers either: what their commands import when they run."""

LIGHT_COMMANDS = (
    ["serve", "--help"],
    ["query", "--help"],
    ["providers", "--help"],
    ["audit", "--help"],
    ["audit", "replay", "--help"],
    ["audit", "verify", "--help"],
    ["report", "monthly", "--help"],
    ["simulate-providers", "--help"],
)

_PROBE = """
import contextlib, io, json, sys
from infrastructure.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(json.loads(sys.argv[1]))
print(json.dumps(sorted(sys.modules)))
"""


def _loaded(argv: list[str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def _among(loaded: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in loaded if m in names or any(m.startswith(f"{n}.") for n in names)]


def test_help_imports_no_command_module() -> None:
    loaded = _loaded(["--help"])
    ours = [m for m in loaded if m.split(".")[0] in {"infrastructure", "adapters", "application"}]
    assert ours == [
        "infrastructure",
        "infrastructure.cli",
        "infrastructure.cli_light",
        "infrastructure.cli_table",
    ]
    assert _among(loaded, HEAVY + CLIENT_LIBRARIES) == []


@pytest.mark.parametrize("argv", LIGHT_COMMANDS, ids=" ".join)
def test_the_light_parsers_import_no_client_library(argv: list[str]) -> None:
    assert _among(_loaded(argv), HEAVY + CLIENT_LIBRARIES) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["party", "--help"],
        ["agreement", "--help"],
        ["incident", "--help"],
        ["escalation", "--help"],
    ],
    ids=" ".join,
)
def test_the_support_desk_parsers_import_only_the_protobuf_messages(argv: list[str]) -> None:
    """Their choices are plain lists (``cli_names``), their stubs and tables imported when
    they run; their request builders still name the generated messages."""
    not_yet = tuple(n for n in CLIENT_LIBRARIES if n not in {"google", "adapters"})
    loaded = _loaded(argv)
    assert _among(loaded, HEAVY + not_yet) == []
    assert [m for m in loaded if m.startswith("adapters.") and m.endswith("_grpc")] == []


def test_a_command_imports_its_own_module_and_no_other() -> None:
    loaded = _loaded(["providers", "--help"])
    assert "infrastructure.client_commands" in loaded
    assert _among(loaded, ("infrastructure.audit_commands", "infrastructure.party_cli")) == []
