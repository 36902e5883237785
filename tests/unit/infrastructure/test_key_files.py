"""A development key file is made once, whole, however many workers start together."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from infrastructure.key_files import create_once


def test_the_first_writer_wins_and_the_file_is_whole_and_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "key.pem"
    assert create_once(path, b"first")
    assert not create_once(path, b"second")
    assert path.read_bytes() == b"first"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["key.pem"]  # no leftovers


def test_of_many_writers_at_once_exactly_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    contents = [f"key {index}".encode() * 1000 for index in range(16)]
    start = threading.Barrier(len(contents))
    won: list[bytes] = []

    def write(content: bytes) -> None:
        start.wait()
        if create_once(path, content):
            won.append(content)

    threads = [threading.Thread(target=write, args=(c,)) for c in contents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert path.read_bytes() == won[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.pem"]
