"""Group commit: concurrent saves share a transaction; a conflict fails only its own save."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from application.group_commit import GroupCommit


class Pending:
    """An aggregate with pending events, as the saga hands them over."""

    def __init__(self, *events: str) -> None:
        self._events = list(events)

    def collect_events(self) -> list[str]:
        events, self._events = self._events, []
        return events


class Store:
    def __init__(self, *, conflicting: str = "", slow_s: float = 0.0) -> None:
        self.transactions: list[tuple[str, ...]] = []
        self.conflicting = conflicting
        self.slow_s = slow_s
        self.lock = threading.Lock()

    def save(self, *events: Any) -> None:
        time.sleep(self.slow_s)
        if self.conflicting and self.conflicting in events:
            raise IntegrityError("duplicate")
        with self.lock:
            self.transactions.append(tuple(events))


async def test_saves_that_wait_together_are_committed_in_one_transaction() -> None:
    store = Store(slow_s=0.05)
    group = GroupCommit(store.save)
    first = asyncio.create_task(group.save(Pending("a1")))
    await asyncio.sleep(0.01)  # the first batch is being written...
    await asyncio.gather(first, *(group.save(Pending(f"b{i}", f"c{i}")) for i in range(10)))
    assert store.transactions[0] == ("a1",)
    assert len(store.transactions) == 2  # ...and the ten that waited went in one transaction
    assert len(store.transactions[1]) == 20


async def test_a_conflict_fails_only_the_conflicting_save() -> None:
    store = Store(conflicting="dup", slow_s=0.02)
    group = GroupCommit(store.save)
    blocker = asyncio.create_task(group.save(Pending("x")))
    await asyncio.sleep(0.005)
    results = await asyncio.gather(
        group.save(Pending("ok1")), group.save(Pending("dup")), group.save(Pending("ok2")),
        return_exceptions=True,
    )  # fmt: skip
    await blocker
    assert [type(r).__name__ for r in results] == ["NoneType", "IntegrityError", "NoneType"]
    assert ("ok1",) in store.transactions
    assert ("ok2",) in store.transactions


async def test_an_outage_fails_every_save_of_the_batch() -> None:
    def broken(*events: Any) -> None:
        raise OSError("disk full")

    group = GroupCommit(broken)
    with pytest.raises(OSError, match="disk full"):
        await group.save(Pending("e"))


async def test_a_caller_that_goes_away_cancels_only_its_own_wait() -> None:
    """Its events are already handed over: they are committed with the batch, and the
    queries that share the batch (or wait for the next) are answered."""
    store = Store(slow_s=0.05)
    group = GroupCommit(store.save)
    writing = asyncio.create_task(group.save(Pending("a1")))
    await asyncio.sleep(0.01)  # the first batch is being written
    leaving = asyncio.create_task(group.save(Pending("gone")))
    staying = asyncio.create_task(group.save(Pending("stays")))
    await asyncio.sleep(0)
    leaving.cancel()
    await asyncio.gather(writing, staying)
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert store.transactions == [("a1",), ("gone", "stays")]
    await group.save(Pending("later"))  # the writer is not stuck on the cancelled wait
    assert store.transactions[-1] == ("later",)
