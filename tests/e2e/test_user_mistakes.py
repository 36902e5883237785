"""A person's mistake with ``ssbtek`` is one clear line and a non-zero exit, never a traceback.

Each case runs the installed command as its own process, as a person would: ``ssbtek serve``
with a bad setting must stop before it opens anything (exit code 2, the variable or option
named, no secret shown); the client commands with bad input end the same way.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.e2e.conftest import RunningServer
from tests.e2e.processes import SSBTEK, free_port

SECRET = "0123456789abcdef-not-to-be-shown"


def run(
    args: list[str], env: dict[str, str], tmp_path: Path, stdout: int = subprocess.DEVNULL
) -> tuple[int, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("SSBTEK_")}
    done = subprocess.run(
        [SSBTEK, *args],
        env={**clean, **env},
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        stdout=stdout,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr


def assert_one_clear_line_each(stderr: str, named: list[str]) -> None:
    assert "Traceback" not in stderr
    assert SECRET not in stderr
    lines = stderr.splitlines()
    assert lines, "something is said"
    assert all(line.startswith("ssbtek") for line in lines), stderr
    for name in named:
        assert name in stderr, stderr


SERVE_MISTAKES = {
    "mode typo": ({"SSBTEK_MODE": "prod"}, [], ["SSBTEK_MODE", "'development' or 'production'"]),
    "port not a number": ({"SSBTEK_POSTGRES_PORT": "abc"}, [], ["SSBTEK_POSTGRES_PORT"]),
    "in flight not a number": ({"SSBTEK_MAX_IN_FLIGHT": "abc"}, [], ["SSBTEK_MAX_IN_FLIGHT"]),
    "delay target with a unit": (
        {"SSBTEK_ADMISSION_DELAY_TARGET": "20ms"},
        [],
        ["SSBTEK_ADMISSION_DELAY_TARGET"],
    ),
    "rate limit words": ({"SSBTEK_RATE_LIMIT": "lots"}, [], ["SSBTEK_RATE_LIMIT", "600/minute"]),
    "log format": ({"SSBTEK_LOG_FORMAT": "xml"}, [], ["SSBTEK_LOG_FORMAT", "'json' or 'text'"]),
    "log level": ({"SSBTEK_LOG_LEVEL": "chatty"}, [], ["SSBTEK_LOG_LEVEL", "'DEBUG'"]),
    "budget past 1": ({"SSBTEK_BUDGET_FRACTION": "2"}, [], ["SSBTEK_BUDGET_FRACTION", "1"]),
    "switch typo": ({"SSBTEK_SINGLETONS": "of"}, [], ["SSBTEK_SINGLETONS", "on or off"]),
    "listen without host": ({"SSBTEK_LISTEN": "50051"}, [], ["SSBTEK_LISTEN", "host:port"]),
    "admins not numbers": ({"SSBTEK_ADMINS": "SKR"}, [], ["SSBTEK_ADMINS"]),
    "store unknown": ({"SSBTEK_STORE": "mysql"}, [], ["SSBTEK_STORE", "'postgres'"]),
    "pseudonym key not hex": ({"SSBTEK_PSEUDONYM_KEY": SECRET}, [], ["SSBTEK_PSEUDONYM_KEY"]),
    "seal key not hex": ({"SSBTEK_AUDIT_SIGNING_KEY": SECRET}, [], ["SSBTEK_AUDIT_SIGNING_KEY"]),
    "error rate past 1": ({}, ["--provider-options", "error_rate=2"], ["--provider-options"]),
    "latency bogus": ({}, ["--provider-options", "latency=bogus"], ["latency", "fixed:"]),
    "rates past 1": (
        {"SSBTEK_PROVIDER_OPTIONS": "error_rate=0.6,hang_rate=0.6"},
        [],
        ["SSBTEK_PROVIDER_OPTIONS", "add up to 1"],
    ),
    "no such adapter": ({}, ["--providers", "acme"], ["--providers", "simulated"]),
    "production without keys": (
        {"SSBTEK_MODE": "production", "SSBTEK_POSTGRES_PASSWORD": SECRET},
        [],
        ["SSBTEK_TLS_PRIVATE_KEY", "SSBTEK_AUDIT_SIGNING_KEY_FILE", "SSBTEK_PSEUDONYM_KEY"],
    ),
    "tls file missing": (
        {
            "SSBTEK_TLS_CERTIFICATE": "server.pem",
            "SSBTEK_TLS_PRIVATE_KEY": "server.key",
            "SSBTEK_TLS_CLIENT_CA": "ca.pem",
        },
        [],
        ["SSBTEK_TLS_PRIVATE_KEY: no such file"],
    ),
    "several at once": (
        {"SSBTEK_MODE": "prod", "SSBTEK_BUDGET_FRACTION": "0", "SSBTEK_MODES": "production"},
        [],
        ["SSBTEK_MODE:", "SSBTEK_BUDGET_FRACTION", "warning: SSBTEK_MODES", "SSBTEK_MODE?"],
    ),
    "workers zero": ({}, ["--workers", "0"], ["--workers"]),
    "database missing": (
        {"SSBTEK_POSTGRES_PASSWORD": SECRET},
        ["--store", "postgres", "--postgres-dbname", "ssbtek_no_such_database"],
        [
            "database ssbtek_no_such_database does not exist; create it with createdb -h "
            "127.0.0.1 -p 5432 -U postgres ssbtek_no_such_database"
        ],
    ),
}


@pytest.mark.parametrize(("env", "args", "named"), SERVE_MISTAKES.values(), ids=SERVE_MISTAKES)
def test_serve_refuses_a_bad_setting_before_it_opens_anything(
    env: dict[str, str], args: list[str], named: list[str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    code, stderr = run(
        ["serve", "--port", "0", "--data-dir", str(data_dir), *args],
        {"SSBTEK_METRICS_LISTEN": "", **env},
        tmp_path,
    )
    assert code == 2
    assert_one_clear_line_each(stderr, named)
    assert not data_dir.exists(), "nothing was opened or created"


def test_serve_names_a_postgresql_server_it_cannot_reach(tmp_path: Path) -> None:
    """Told not to wait for the database (ADR 23), it stops at once with one line."""
    port = str(free_port())
    env = {
        "SSBTEK_POSTGRES_PORT": port,
        "SSBTEK_POSTGRES_PASSWORD": SECRET,
        "SSBTEK_POSTGRES_WAIT_AT_START": "off",
    }
    code, stderr = run(["serve", "--store", "postgres"], env, tmp_path)
    assert code == 2
    assert_one_clear_line_each(stderr, [f"cannot connect to PostgreSQL at 127.0.0.1:{port}"])
    assert len(stderr.splitlines()) == 1


QUERY = ["query", "19121212-1212", "--organisation", "212000-0142", "--caseworker", "HL1"]
QUERY += ["--case", "C-1"]
TLS = ["--tls-private-key", "kommun.key", "--tls-server-ca", "ca.pem"]
CLI_MISTAKES = {
    "day month year": (
        ["party", "order-form", "212000-0142", "--signed-on", "03/12/2026"],
        ["--signed-on", "YYYY-MM-DD"],
    ),
    "a word for a time": (
        ["incident", "change", "announce", "CHG-1", "--start", "tomorrow", "--end", "x"],
        ["--start", "YYYY-MM-DD HH:MM", "Stockholm time"],
    ),
    "no such day": (
        [*QUERY, "--from", "2026-02-30"],
        ["--from", "no such day"],
    ),
    "agreement day": (["agreement", "governing", "--on", "12/3"], ["--on", "YYYY-MM-DD"]),
    "month": (["report", "monthly", "2026-13"], ["month", "YYYY-MM"]),
    "replay since a word": (["audit", "replay", "--since", "yesterday"], ["--since", "UTC"]),
    "unknown choice": (
        [*QUERY, "--purpose", "CURIOSITY"],
        ["--purpose", "invalid choice"],
    ),
    "unknown command": (["partys"], ["invalid choice"]),
    "missing certificate": (
        ["party", "show", "212000-0142", "--tls-certificate", "kommun.pem", *TLS],
        ["cannot read ca.pem: No such file or directory"],
    ),
    "missing database": (
        ["audit", "verify", "--store", "postgres", "--postgres-dbname", "ssbtek_no_such_db"],
        ["database ssbtek_no_such_db does not exist; create it with createdb"],
    ),
}


@pytest.mark.parametrize(("args", "named"), CLI_MISTAKES.values(), ids=CLI_MISTAKES)
def test_a_command_with_bad_input_says_so_in_one_line(
    args: list[str], named: list[str], tmp_path: Path
) -> None:
    code, stderr = run(args, {}, tmp_path)
    assert code == 2
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    for name in named:
        assert name in stderr, stderr


def test_a_server_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    target = f"127.0.0.1:{free_port()}"
    code, stderr = run(["party", "show", "212000-0142", "--target", target], {}, tmp_path)
    assert code == 2
    assert stderr.startswith("ssbtek: error: UNAVAILABLE: no service answers at that address")
    assert len(stderr.splitlines()) == 1
    assert "Traceback" not in stderr


def _closed_pipe() -> int:
    reader, writer = os.pipe()
    os.close(reader)  # like `| head` that has read what it wanted
    return writer


def test_output_into_a_closed_pipe_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    key = tmp_path / "seal.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    writer = _closed_pipe()
    try:
        code, stderr = run(
            ["audit", "export-key", "--signing-key-file", str(key)], {}, tmp_path, stdout=writer
        )
    finally:
        os.close(writer)
    assert code == 141
    assert stderr == "ssbtek: the output was closed before the end\n"


def test_json_into_a_closed_pipe_from_the_running_service(
    server: RunningServer, tmp_path: Path
) -> None:
    """``ssbtek party show ... --json | head``, with the reader already gone."""
    writer = _closed_pipe()
    try:
        code, stderr = run(
            ["party", "show", "212000-0142", "--json", "--target", server.target],
            {},
            tmp_path,
            stdout=writer,
        )
    finally:
        os.close(writer)
    assert code == 141
    assert stderr == "ssbtek: the output was closed before the end\n"


@pytest.mark.parametrize("day", ["idag", "today", "i morgon", "20261203", "2026-12-03"])
def test_a_day_is_taken_as_a_swedish_user_types_it(
    server: RunningServer, tmp_path: Path, day: str
) -> None:
    code, stderr = run(
        ["agreement", "governing", "--on", day, "--json", "--target", server.target], {}, tmp_path
    )
    assert (code, stderr) == (0, "")
