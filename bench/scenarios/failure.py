"""A part of a scenario that could not be measured: recorded, and the suite goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import attrs

log = logging.getLogger("bench")
T = TypeVar("T")


@attrs.frozen
class Failure:
    name: str
    error: str


def attempt(name: str, measure: Callable[[], T]) -> T | Failure:
    """``measure()``, or a ``Failure`` naming what went wrong (logged, never raised)."""
    try:
        return measure()
    except Exception as error:
        log.exception("%s could not be measured", name)
        return Failure(name, f"{type(error).__name__}: {error}"[:2000])
