"""The service's record of its own running time: ``ServiceRuns`` and ``RunTimeRecorder``."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest

from adapters.system_clock import SystemClock
from application.running_time import RunTimeRecorder, ServiceRuns
from domain.providers import STOCKHOLM
from domain.running.service_run import ServiceRun, ServiceRunError
from infrastructure.composition import node_name
from infrastructure.settings import Settings, Store
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock

MONDAY = dt.datetime(2026, 11, 16, 8, 0, tzinfo=STOCKHOLM)


def in_memory(clock: FakeClock | None = None) -> ServiceRuns:
    return ServiceRuns(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock or FakeClock(MONDAY)
    )


def kinds(runs: ServiceRuns) -> list[str]:
    return [n.topic.rsplit(".", 1)[-1] for n in runs.recorder.select_notifications(1, 100)]


def test_a_run_is_started_still_up_and_stopped_at_the_clock_s_times() -> None:
    clock = FakeClock(MONDAY)
    runs = in_memory(clock)
    run_id = runs.start(node="node-a1", worker=2)
    clock.advance(dt.timedelta(minutes=1))
    runs.still_up(run_id)
    clock.advance(dt.timedelta(seconds=30))
    runs.stop(run_id)
    assert kinds(runs) == ["Started", "StillUp", "Stopped"]
    run: ServiceRun = runs.repository.get(run_id)
    assert (run.node, run.worker, run.stopped, run.version) == ("node-a1", 2, True, 3)
    assert run.modified_on == MONDAY + dt.timedelta(seconds=90)
    with pytest.raises(ServiceRunError):
        runs.still_up(run_id)


@pytest.mark.parametrize("node", ["", "Anna's laptop", "x" * 40])
def test_a_node_is_named_by_a_short_code(node: str) -> None:
    with pytest.raises(ServiceRunError):
        in_memory().start(node=node, worker=0)


def test_a_heartbeat_that_could_not_be_saved_is_followed_by_a_consistent_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The store refused one write: the next heartbeat reads the run back and continues it."""
    runs = in_memory()
    run_id = runs.start(node="node-a1", worker=0)
    insert = runs.recorder.insert_events
    failures = [ConnectionError("the store is down")]

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return insert(*args, **kwargs)

    monkeypatch.setattr(runs.recorder, "insert_events", failing_once)
    with pytest.raises(ConnectionError):
        runs.still_up(run_id)
    runs.still_up(run_id)
    runs.stop(run_id)
    assert kinds(runs) == ["Started", "StillUp", "Stopped"]
    assert runs.repository.get(run_id).version == 3


async def test_the_recorder_records_every_interval_until_stopped() -> None:
    runs = ServiceRuns(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=SystemClock())
    recorder = RunTimeRecorder(runs, node="node-a1", worker=0, interval_s=1)
    await recorder.start()
    for _ in range(200):  # up to 20 s on a busy machine
        if "StillUp" in kinds(runs):
            break
        await asyncio.sleep(0.1)
    await recorder.stop()
    recorded = kinds(runs)
    assert recorded[0] == "Started"
    assert "StillUp" in recorded
    assert recorded[-1] == "Stopped"


def test_the_node_name_is_a_keyed_digest_not_the_host_s_name(tmp_path: Path) -> None:
    settings = Settings(store=Store.MEMORY, data_dir=tmp_path, pseudonym_key_hex=TEST_KEY)
    name = node_name(settings)
    assert name == node_name(settings)
    assert name.startswith("node-")
    assert len(name) == 17
    assert socket.gethostname().lower() not in name
    ServiceRun.start(run_id=uuid.uuid4(), node=name, worker=0, at=MONDAY)
