"""``ssbtek --help`` and the parsing of every command import no store, key, chart or service
module: each command imports what it uses when it runs (its start-up time is measured in
bench/README.md, "ssbtek --help")."""

from __future__ import annotations

import json
import subprocess
import sys

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

_PROBE = """
import contextlib, io, json, sys
from infrastructure.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(["--help"])
print(json.dumps(sorted(sys.modules)))
"""


def test_help_imports_no_heavy_module() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = json.loads(done.stdout)
    heavy = [name for name in loaded if name.split(".")[0] in HEAVY or name in HEAVY]
    assert heavy == []
