"""``ssbtek serve`` in production mode with a broken TLS file stops before it binds: exit code
2, one line naming the variable and the problem, no traceback, nothing of a key (ADR 25).

Each case runs the installed command as its own process. The unreadable key is unreadable to
the process that serves: as root (which reads any file) the command runs as ``nobody``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.certificates import CertificateAuthority
from tests.e2e.processes import SSBTEK, free_port, stop

SECRET = "0123456789abcdef-not-to-be-shown"
NOBODY = 65534
CLIENT_CA = CertificateAuthority("Client CA")
SERVER_CA = CertificateAuthority("Server CA")
PAIR = SERVER_CA.issue_server()
OTHER = SERVER_CA.issue_server()
KEY_LINE = PAIR.private_key_pem.splitlines()[1].decode()


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder ``nobody`` may enter (pytest's own is root's only): the files and the cwd."""
    with tempfile.TemporaryDirectory(prefix="ssbtek-tls-") as made:
        path = Path(made)
        path.chmod(0o755)
        (path / "server.pem").write_bytes(PAIR.certificate_pem)
        (path / "server.key").write_bytes(PAIR.private_key_pem)
        (path / "client-ca.pem").write_bytes(CLIENT_CA.certificate_pem)
        for file in path.iterdir():
            file.chmod(0o644)
        yield path


def _as_served() -> list[str]:
    """The command, as ``nobody`` when this test runs as root (util-linux ``setpriv``)."""
    if os.getuid() != 0:
        return [SSBTEK]
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) runs the command as nobody when the tests run as root"
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", SSBTEK]


def serve(folder: Path, **changes: str) -> tuple[int, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("SSBTEK_")}
    env = {
        **clean,
        "SSBTEK_MODE": "production",
        "SSBTEK_STORE": "memory",
        "SSBTEK_DATA_DIR": str(folder / "var"),
        "SSBTEK_METRICS_LISTEN": "",
        "SSBTEK_LISTEN": f"127.0.0.1:{free_port()}",
        "SSBTEK_PSEUDONYM_KEY": "ab" * 32,
        "SSBTEK_AUDIT_SIGNING_KEY": "cd" * 32,
        "SSBTEK_TLS_CERTIFICATE": str(folder / "server.pem"),
        "SSBTEK_TLS_PRIVATE_KEY": str(folder / "server.key"),
        "SSBTEK_TLS_CLIENT_CA": str(folder / "client-ca.pem"),
        **changes,
    }
    done = subprocess.run(
        [*_as_served(), "serve"],
        env=env,
        cwd=folder,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr


def _unreadable(folder: Path) -> dict[str, str]:
    (folder / "server.key").chmod(0o600 if os.getuid() == 0 else 0o000)  # root's, not nobody's
    return {}


def _directory(folder: Path) -> dict[str, str]:
    (folder / "key-dir").mkdir()
    return {"SSBTEK_TLS_PRIVATE_KEY": str(folder / "key-dir")}


def _write(name: str, data: bytes) -> Callable[[Path], dict[str, str]]:
    def change(folder: Path) -> dict[str, str]:
        (folder / name).write_bytes(data)
        return {}

    return change


def _crl(data: bytes) -> Callable[[Path], dict[str, str]]:
    def change(folder: Path) -> dict[str, str]:
        (folder / "client-ca.crl").write_bytes(data)
        (folder / "client-ca.crl").chmod(0o644)
        return {"SSBTEK_TLS_CRL": str(folder / "client-ca.crl")}

    return change


EXPIRED = SERVER_CA.issue_server(not_after=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))

BROKEN = {
    "certificate missing": (
        lambda folder: {"SSBTEK_TLS_CERTIFICATE": str(folder / "no-such.pem")},
        "SSBTEK_TLS_CERTIFICATE",
        "no such file",
    ),
    "key unreadable": (_unreadable, "SSBTEK_TLS_PRIVATE_KEY", "Permission denied"),
    "key a directory": (_directory, "SSBTEK_TLS_PRIVATE_KEY", "is a directory"),
    "key of another pair": (
        _write("server.key", OTHER.private_key_pem),
        "SSBTEK_TLS_PRIVATE_KEY",
        "does not match the certificate",
    ),
    "key not PEM": (
        _write("server.key", f"{SECRET}\n".encode()),
        "SSBTEK_TLS_PRIVATE_KEY",
        "is not a PEM private key",
    ),
    "certificate not PEM": (
        _write("server.pem", PAIR.private_key_pem),
        "SSBTEK_TLS_CERTIFICATE",
        "is not a PEM certificate",
    ),
    "certificate expired": (
        lambda folder: {
            **_write("server.pem", EXPIRED.certificate_pem)(folder),
            **_write("server.key", EXPIRED.private_key_pem)(folder),
        },
        "SSBTEK_TLS_CERTIFICATE",
        "the certificate expired on",
    ),
    "client CA not a CA": (
        _write("client-ca.pem", PAIR.certificate_pem),
        "SSBTEK_TLS_CLIENT_CA",
        "is not a CA certificate",
    ),
    "revocation list of another CA": (
        _crl(CertificateAuthority("Client CA").revocation_list()),
        "SSBTEK_TLS_CRL",
        "is not signed by the client CA",
    ),
    "revocation list not a CRL": (
        _crl(b"nothing revoked\n"),
        "SSBTEK_TLS_CRL",
        "is not a certificate revocation list",
    ),
}


@pytest.mark.parametrize(("broken", "variable", "problem"), BROKEN.values(), ids=BROKEN)
def test_a_broken_tls_file_stops_serve_with_one_line_naming_its_variable(
    folder: Path,
    broken: Callable[[Path], dict[str, str]],
    variable: str,
    problem: str,
) -> None:
    code, stderr = serve(folder, **broken(folder))
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"ssbtek: {variable}: "), stderr
    assert problem in stderr, stderr
    assert SECRET not in stderr
    assert KEY_LINE not in stderr
    assert "PRIVATE KEY" not in stderr
    assert not (folder / "var").exists(), "nothing was opened or created"


def test_good_tls_files_serve_mutual_tls_in_production_mode(folder: Path) -> None:
    """The same command with the files intact binds and serves (so the cases above fail for
    their broken file, not for something else this test set up)."""
    log_path = folder / "server.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("SSBTEK_")}
    env |= {
        "SSBTEK_MODE": "production",
        "SSBTEK_STORE": "memory",
        "SSBTEK_DATA_DIR": str(folder / "var"),
        "SSBTEK_METRICS_LISTEN": "",
        "SSBTEK_LISTEN": "127.0.0.1:0",
        "SSBTEK_LOG_FORMAT": "text",
        "SSBTEK_PSEUDONYM_KEY": "ab" * 32,
        "SSBTEK_AUDIT_SIGNING_KEY": "cd" * 32,
        "SSBTEK_TLS_CERTIFICATE": str(folder / "server.pem"),
        "SSBTEK_TLS_PRIVATE_KEY": str(folder / "server.key"),
        "SSBTEK_TLS_CLIENT_CA": str(folder / "client-ca.pem"),
        "SSBTEK_TLS_CRL": str(folder / "client-ca.crl"),
    }
    _crl(CLIENT_CA.revocation_list(der=True))(folder)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [SSBTEK, "serve"], env=env, cwd=folder, stdout=log, stderr=log, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while "serving on" not in log_path.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
    finally:
        stop(process)
    assert "mutual TLS, production mode" in log_path.read_text(), log_path.read_text()
