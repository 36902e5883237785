"""Every install comes from uv.lock: the lock agrees with pyproject.toml, and nothing else installs.

ADR 15. `uv lock --check` re-resolves pyproject.toml against the lock without writing it and
fails when they disagree (a dependency added, removed or re-ranged without `make lock`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _uv() -> str:
    local = ROOT / ".uv" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    assert found, "uv is not installed: `make test` installs it into .uv/ from requirements-uv.txt"
    return found


def _uv_lock_check(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    return subprocess.run(
        [_uv(), "lock", "--check", "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_the_lock_agrees_with_pyproject() -> None:
    result = _uv_lock_check(ROOT)
    assert result.returncode == 0, result.stderr


def test_a_dependency_added_without_relocking_is_caught(tmp_path: Path) -> None:
    """The check above can fail: the same project with one more dependency disagrees."""
    shutil.copy(ROOT / "uv.lock", tmp_path / "uv.lock")
    text = (ROOT / "pyproject.toml").read_text()
    changed = text.replace("dependencies = [\n", 'dependencies = [\n  "six==1.16.0",\n', 1)
    assert changed != text
    (tmp_path / "pyproject.toml").write_text(changed)
    (tmp_path / "README.md").write_text("copy\n")
    result = _uv_lock_check(tmp_path)
    assert result.returncode != 0
    assert "needs to be updated" in (result.stderr + result.stdout).lower()


def test_the_uv_that_installs_is_the_one_pyproject_requires() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    required = config["tool"]["uv"]["required-version"].removeprefix("==")
    bootstrap = (ROOT / "requirements-uv.txt").read_text()
    assert re.search(rf"^uv=={re.escape(required)} \\$", bootstrap, re.MULTILINE)
    assert "--hash=sha256:" in bootstrap


def test_make_installs_only_through_uv_sync_frozen() -> None:
    """No pip install of project dependencies anywhere in the build: only the lock installs."""
    makefile = (ROOT / "Makefile").read_text()
    pip_lines = [line for line in makefile.splitlines() if "pip install" in line]
    assert pip_lines == [
        "\t$(UV_HOME)/bin/pip install --quiet --require-hashes -r requirements-uv.txt"
    ]
    assert "SYNC := $(UV) sync --frozen" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install" not in ci
