"""Development key files, made once in the data directory even when workers start together."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def create_once(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` (mode 0600) unless it exists; True if this call made it.

    The file appears whole or not at all: it is written under a name of this process and thread and
    hard-linked into place, so of several workers starting at once one wins and none can
    read a half-written key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True
