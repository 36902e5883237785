"""The disk under SQLite fills up: queries get UNAVAILABLE quickly, no answer leaves without
its audit events, and the service recovers by itself once there is room again.

The data directory is a 4 MB tmpfs mounted for the test (the tests run as root here)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.providers.simulated import build_simulated_base_services
from application.errors import AuditUnavailableError
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock
from tests.reliability.store_recovery import answers_again_with_every_audit_complete
from tests.unit.application.test_query_saga import WEDNESDAY_NOON, command


@pytest.fixture
def small_disk() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI and the developers' machines are root)")
    mount_point = Path(tempfile.mkdtemp(prefix="ssbtek-full-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def fill(path: Path) -> None:
    """Write until the disk is full (it may be full already: then even the open fails)."""
    try:
        with path.open("wb") as filler:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
    except OSError:
        pass


async def test_a_full_disk_refuses_quickly_and_the_service_recovers(small_disk: Path) -> None:
    settings = Settings(
        store=Store.SQLITE, data_dir=small_disk, pseudonym_key_hex="aa" * 32, rate_limit=""
    )
    services = build_simulated_base_services({"latency": "none"})
    queries = build_queries(settings, base_services=services, clock=FakeClock(WEDNESDAY_NOON))
    answered = []
    try:
        answered.append(
            (await queries.submit(command(client_request_id=uuid.uuid4().hex))).query_id
        )
        filler = small_disk / "filler"
        fill(filler)
        refusals = 0
        for _ in range(40):
            started = time.monotonic()
            try:
                answered.append(
                    (await queries.submit(command(client_request_id=uuid.uuid4().hex))).query_id
                )
            except AuditUnavailableError:
                refusals += 1
                assert time.monotonic() - started < 4.0
        assert refusals > 0, "the full disk was never noticed"
        filler.unlink()
        await answers_again_with_every_audit_complete(queries, answered)
    finally:
        queries.close()
