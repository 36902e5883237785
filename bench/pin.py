"""``python -m bench.pin CPUS -- PROGRAM ARGS...``: run PROGRAM pinned to CPUS (``0,1``).

The affinity is set before ``exec``, so every thread PROGRAM makes inherits it.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: python -m bench.pin CPUS -- PROGRAM [ARGS...]\n")
        raise SystemExit(2)
    cpus = {int(cpu) for cpu in argv[0].split(",") if cpu}
    os.sched_setaffinity(0, cpus)
    os.execv(argv[2], argv[2:])  # noqa: S606 (our own interpreter or entry point)


if __name__ == "__main__":
    main(sys.argv[1:])
