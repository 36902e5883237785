"""Group commit: the saves of all queries waiting at a moment go in ONE transaction.

A writer thread saves one batch at a time; whatever arrives while it works forms the
next batch, so an idle service saves at once and a busy one pays one transaction (and
one hold of the event store's table lock, ADR 13) for many queries. When a batch fails
on a conflict (a retried client request id), each query's events are saved on their own
so only the conflicting ones fail. Other failures fail the whole batch.

A save may carry a time limit (``within_s``): the batch is committed by the earliest limit
of its members, or not at all (``application.store_budget``), so no query's events are
committed after its caller's deadline. A member whose limit passed while it waited is
failed without being written.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from eventsourcing.persistence import IntegrityError

from application.store_budget import StoreDeadlinePassedError, store_deadline

Events = list[Any]


@attrs.frozen
class _Waiting:
    events: Events
    done: asyncio.Future[None]
    deadline: float | None


class GroupCommit:
    def __init__(self, save: Callable[..., object]) -> None:
        """``save(*events)``: one transaction (the application's ``save``)."""
        self._save = save
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def save(self, aggregate: Any, *, within_s: float | None = None) -> None:
        """Save the aggregate's pending events; returns once they are committed.

        ``within_s``: commit within this many seconds or not at all."""
        events: Events = list(aggregate.collect_events())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        deadline = None if within_s is None else time.monotonic() + within_s
        self._waiting.append(_Waiting(events, done, deadline))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        await asyncio.shield(done)

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            now = time.monotonic()
            late = [w for w in batch if w.deadline is not None and w.deadline <= now]
            for waiting in late:
                if not waiting.done.done():
                    waiting.done.set_exception(StoreDeadlinePassedError())
            batch = [w for w in batch if w.deadline is None or w.deadline > now]
            if not batch:
                continue
            outcomes = await asyncio.to_thread(self._commit, batch)
            for waiting, outcome in zip(batch, outcomes, strict=True):
                if waiting.done.done():
                    continue
                if outcome is None:
                    waiting.done.set_result(None)
                else:
                    waiting.done.set_exception(outcome)

    def _commit(self, batch: Sequence[_Waiting]) -> list[BaseException | None]:
        deadlines = [w.deadline for w in batch if w.deadline is not None]
        try:
            with store_deadline(min(deadlines) if deadlines else None):
                self._save(*(event for waiting in batch for event in waiting.events))
        except IntegrityError:
            if len(batch) == 1:
                return [IntegrityError("the record already exists")]
            return [self._commit_one(waiting) for waiting in batch]
        except Exception as error:
            return [error] * len(batch)
        return [None] * len(batch)

    def _commit_one(self, waiting: _Waiting) -> BaseException | None:
        try:
            with store_deadline(waiting.deadline):
                self._save(*waiting.events)
        except Exception as error:
            return error
        return None
