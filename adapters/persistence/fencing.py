"""Fencing for the background roles: the writes of a role check, in their own transaction,
that this process still holds the roles' lease (ADR 13).

The process that holds the lease runs each role in a context where ``FENCE`` is set
(``fenced(fence)``); ``asyncio.to_thread`` copies the context into the worker thread that
does the store work, and the recorders of ``adapters.persistence.postgres_lease`` call
``check_fence`` inside the write transaction, before the events are inserted. A write
made outside a role (a query, an operator's command) has no fence and is not checked.
A task or thread started from inside a role carries its fence, so a role starts none that
outlives it to do other work; work handed to a thread some other way (a queue) is not fenced.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol


class LeaseLostError(Exception):
    """This process no longer holds the background roles' lease: the write was refused."""


class Fence(Protocol):
    """Checks, on the cursor of a write transaction, that the lease is still this process's."""

    def check(self, cursor: object) -> None:
        """Raise ``LeaseLostError`` when the lease is no longer held with this fence's token."""
        ...


FENCE: ContextVar[Fence | None] = ContextVar("ssbtek_background_roles_fence", default=None)


@contextlib.contextmanager
def fenced(fence: Fence | None) -> Iterator[None]:
    """Run the body (and the threads it starts with ``asyncio.to_thread``) under ``fence``."""
    reset = FENCE.set(fence)
    try:
        yield
    finally:
        FENCE.reset(reset)


def check_fence(cursor: object) -> None:
    """Inside a write transaction: refuse it if the current context's lease was lost."""
    fence = FENCE.get()
    if fence is not None:
        fence.check(cursor)
