"""The time a store operation may take, handed from the saga to the store's adapter.

A query's writes must be committed before the caller's deadline (and within the query's
service level), or not at all. The saga sets a deadline (``time.monotonic()``) around the
write, in a context variable that ``asyncio.to_thread`` carries into the worker thread; a
store adapter that can honour it (``adapters/persistence/postgres_store.py``) derives its
pool wait, connect timeout, statement and lock timeouts from what remains, and refuses to
commit once too little is left (``StoreDeadlinePassedError``: nothing was written).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_DEADLINE: ContextVar[float | None] = ContextVar("store_deadline", default=None)


class StoreDeadlinePassedError(Exception):
    """Too little time was left to commit: the write was rolled back, nothing was stored."""


@contextmanager
def store_deadline(deadline: float | None) -> Iterator[None]:
    """Store operations in this context finish by ``deadline`` (``time.monotonic()``)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def current_deadline() -> float | None:
    """The deadline of the store operation being run, if the caller gave one."""
    return _DEADLINE.get()


def remaining_s() -> float | None:
    """Seconds left before the current deadline (negative once passed); None without one."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()
