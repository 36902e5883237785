"""The background roles' lease on one machine: a file lock (SQLite), or always held (memory).

SQLite keeps the whole store on one machine, so the workers of ``ssbtek serve --workers N``
are the only candidates: the first to lock ``<data dir>/background-roles.lock``
(``flock``) holds the roles until it stops or dies, when the kernel releases the lock. No
write needs a fence: a process loses the lock only by ending. The file says who holds it
and counts the tokens, for the operator and the log. An in-memory store is each process's
own, so each process holds its own roles (``HeldLease``).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from adapters.persistence.fencing import Fence


class FileLease:
    """``flock`` on a file: held by one process of the machine at a time."""

    def __init__(self, path: Path, *, holder: str, ttl_s: float) -> None:
        self.holder = holder
        self.ttl_s = ttl_s
        self._path = path
        self._file: int | None = None
        self._token: int | None = None

    def acquire(self) -> int | None:
        if self._token is not None:
            return self._token
        self._path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        before = os.read(descriptor, 200).decode(errors="replace").split(" ", 1)[0]
        token = int(before) + 1 if before.isdigit() else 1
        os.lseek(descriptor, 0, os.SEEK_SET)
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{token} {self.holder}\n".encode())
        self._file, self._token = descriptor, token
        return token

    def fence(self, token: int) -> Fence | None:
        return None  # held until this process ends: nothing to check per write

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            os.close(self._file)
        self._file = self._token = None

    def close(self) -> None:
        self.release()


class HeldLease:
    """Always held: the in-memory store belongs to this process alone."""

    def __init__(self, *, holder: str, ttl_s: float) -> None:
        self.holder = holder
        self.ttl_s = ttl_s

    def acquire(self) -> int | None:
        return 1

    def fence(self, token: int) -> Fence | None:
        return None

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass
