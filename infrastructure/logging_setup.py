"""Structured logs: one JSON object per line (or plain text for a person at a terminal).

Every module logs through the standard library; structlog renders the records. Log
lines carry codes, ids of queries (random or keyed, never personal), provider names and
durations: never a request field or an exception's message (ADR 4).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


def configure_logging(level: str, log_format: str) -> None:
    shared: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if root.getEffectiveLevel() >= logging.INFO:
        # httpx logs every request it sends at INFO (method, URL, status): a line per
        # provider call under the network adapters; the service's own lines say what each
        # call came to. Its warnings still show, and DEBUG shows everything.
        logging.getLogger("httpx").setLevel(logging.WARNING)
