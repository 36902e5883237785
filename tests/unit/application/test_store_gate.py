from __future__ import annotations

import asyncio
import time

import pytest

from application.store_gate import StoreGate, StoreUnavailableError


class Store:
    def __init__(self) -> None:
        self.down = False
        self.slow_s = 0.0
        self.probes = 0

    def read(self) -> str:
        time.sleep(self.slow_s)
        if self.down:
            raise OSError("connection refused")
        return "ok"

    def probe(self) -> None:
        self.probes += 1
        self.read()


async def test_a_failing_read_opens_the_gate_and_later_reads_are_refused_at_once() -> None:
    store = Store()
    gate = StoreGate(store.probe, read_timeout_s=0.5, probe_interval_s=0.05)
    assert await gate.guarded(store.read) == "ok"
    store.down = True
    with pytest.raises(StoreUnavailableError):
        await gate.guarded(store.read)
    store.slow_s = 10.0  # a refused read must not even start
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError):
        await gate.guarded(store.read)
    assert time.monotonic() - started < 0.05
    await gate.close()


async def test_a_slow_read_opens_the_gate_and_the_probe_closes_it_when_the_store_answers() -> None:
    store = Store()
    store.slow_s = 0.3
    gate = StoreGate(store.probe, read_timeout_s=0.1, probe_interval_s=0.05)
    with pytest.raises(StoreUnavailableError):
        await gate.guarded(store.read)
    assert gate.is_open
    store.slow_s = 0.0
    for _ in range(100):
        if not gate.is_open:
            break
        await asyncio.sleep(0.02)
    assert not gate.is_open
    assert store.probes >= 1
    assert await gate.guarded(store.read) == "ok"


async def test_a_passthrough_exception_is_an_answer_not_an_outage() -> None:
    def conflict() -> None:
        raise KeyError("exists")

    gate = StoreGate(Store().probe, read_timeout_s=0.5, probe_interval_s=0.05)
    with pytest.raises(KeyError):
        await gate.guarded(conflict, passthrough=(KeyError,))
    assert not gate.is_open


async def test_a_burst_that_waits_for_threads_is_not_an_outage() -> None:
    """Only the operation's own time counts: 60 reads of 0.1 s on a handful of threads wait
    about a second in the queue, well past the 0.5 s limit, and none of them trips the gate."""
    store = Store()
    store.slow_s = 0.1
    gate = StoreGate(store.probe, read_timeout_s=0.5, probe_interval_s=0.05)
    results = await asyncio.gather(*(gate.guarded(store.read) for _ in range(60)))
    assert results == ["ok"] * 60
    assert not gate.is_open


async def test_listeners_hear_the_store_go_down_and_come_back_by_itself() -> None:
    store = Store()
    gate = StoreGate(store.probe, read_timeout_s=0.5, probe_interval_s=0.05)
    heard: list[bool] = []
    gate.add_listener(heard.append)
    assert heard == [True]  # told the state now, at once
    store.down = True
    with pytest.raises(StoreUnavailableError):
        await gate.guarded(store.read)
    assert heard == [True, False]
    store.down = False
    for _ in range(100):
        if len(heard) == 3:
            break
        await asyncio.sleep(0.02)
    assert heard == [True, False, True]
    await gate.close()


async def test_an_idle_gate_probes_the_store_and_opens_without_any_query() -> None:
    store = Store()
    gate = StoreGate(store.probe, read_timeout_s=0.5, probe_interval_s=0.05, watch_interval_s=0.05)
    gate.watch()
    store.down = True
    for _ in range(100):
        if gate.is_open:
            break
        await asyncio.sleep(0.02)
    assert gate.is_open
    store.down = False
    for _ in range(100):
        if not gate.is_open:
            break
        await asyncio.sleep(0.02)
    assert not gate.is_open
    await gate.close()


async def test_a_probe_that_hangs_counts_as_failed_within_its_time_limit() -> None:
    store = Store()
    gate = StoreGate(
        store.probe,
        read_timeout_s=0.5,
        probe_interval_s=0.05,
        probe_timeout_s=0.1,
        watch_interval_s=0.05,
    )
    gate.watch()
    store.slow_s = 2.0  # a store that stops answering
    started = time.monotonic()
    for _ in range(100):
        if gate.is_open:
            break
        await asyncio.sleep(0.02)
    assert gate.is_open
    assert time.monotonic() - started < 1.0
    await gate.close()


async def test_a_caller_with_little_time_left_does_not_open_the_gate_for_everyone() -> None:
    store = Store()
    store.slow_s = 0.2
    gate = StoreGate(store.probe, read_timeout_s=0.5, probe_interval_s=0.05)
    with pytest.raises(StoreUnavailableError):
        await gate.guarded(store.read, timeout_s=0.05)  # the caller's deadline, not the store
    assert not gate.is_open
    assert await gate.guarded(store.read) == "ok"
