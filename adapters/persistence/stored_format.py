"""The stored format of the events: the eventsourcing library's JSON transcoder.

A state is a JSON object; values of registered types are envelopes
``{"_type_": "datetime_iso", "_data_": "2026-11-25T12:00:00+01:00"}``. This adapter reads a
single field of it (for seeking by time and filtering the replay) without structuring the
whole event; the application sees only the ``StoredFormat`` port (``application/log_reader.py``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Final

_STAMPED: Final = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'
"""How the transcoder begins every event's state (the library's ``DomainEvent`` puts its
``timestamp`` first): the time is then read from the first bytes, without parsing the rest."""


class LibraryJsonFormat:
    """``StoredFormat`` for states written by the library's ``JSONTranscoder``."""

    def timestamp(self, state: bytes) -> dt.datetime | None:
        if state.startswith(_STAMPED):
            end = state.find(b'"', len(_STAMPED))
            try:
                moment = dt.datetime.fromisoformat(state[len(_STAMPED) : end].decode())
            except (ValueError, UnicodeDecodeError):
                return None
            return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        try:
            stamp = json.loads(state)["timestamp"]
            text = stamp["_data_"] if isinstance(stamp, dict) else stamp
            moment = dt.datetime.fromisoformat(str(text))
        except (ValueError, KeyError, TypeError):
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

    def text(self, state: bytes, field: str) -> str:
        try:
            value = json.loads(state).get(field, "")
        except (ValueError, AttributeError):
            return ""
        return value if isinstance(value, str) else ""

    def optional_text(self, state: bytes, field: str) -> str | None:
        try:
            found = json.loads(state)
        except ValueError:
            return ""
        if not isinstance(found, dict) or field not in found:
            return None
        value = found[field]
        return value if isinstance(value, str) else ""

    def enum_value(self, state: bytes, field: str) -> str:
        try:
            value = json.loads(state).get(field, "")
        except (ValueError, AttributeError):
            return ""
        if isinstance(value, dict):  # a registered type's envelope
            value = value.get("_data_", "")
        return value if isinstance(value, str) else ""
