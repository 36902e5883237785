"""Group commit: the saves of all queries waiting at a moment go in ONE transaction.

A writer thread saves one batch at a time; whatever arrives while it works forms the
next batch, so an idle service saves at once and a busy one pays one transaction (and
one hold of the event store's table lock, ADR 13) for many queries. When a batch fails
on a conflict (a retried client request id), each query's events are saved on their own
so only the conflicting ones fail. Other failures fail the whole batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError

Events = list[Any]


class GroupCommit:
    def __init__(self, save: Callable[..., object]) -> None:
        """``save(*events)``: one transaction (the application's ``save``)."""
        self._save = save
        self._waiting: list[tuple[Events, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def save(self, aggregate: Any) -> None:
        """Save the aggregate's pending events; returns once they are committed."""
        events: Events = list(aggregate.collect_events())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((events, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        await asyncio.shield(done)

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            outcomes = await asyncio.to_thread(self._commit, [events for events, _ in batch])
            for (_, done), outcome in zip(batch, outcomes, strict=True):
                if done.done():
                    continue
                if outcome is None:
                    done.set_result(None)
                else:
                    done.set_exception(outcome)

    def _commit(self, batch: Sequence[Events]) -> list[BaseException | None]:
        try:
            self._save(*(event for events in batch for event in events))
        except IntegrityError:
            if len(batch) == 1:
                return [IntegrityError("the record already exists")]
            return [self._commit_one(events) for events in batch]
        except Exception as error:
            return [error] * len(batch)
        return [None] * len(batch)

    def _commit_one(self, events: Events) -> BaseException | None:
        try:
            self._save(*events)
        except Exception as error:
            return error
        return None
