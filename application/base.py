"""What every application of the service shares: configuration from the composition root
only, and the value transcodings it is given.

The library's ``Application.construct_env`` also reads ``os.environ``; here the composition
root (``infrastructure/composition.py``) is the one source of configuration (ADR 2), so an
environment variable of the library's cannot change a store behind the settings' back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding
from eventsourcing.utils import Environment


class ServiceApplication(Application[UUID]):
    """An ``Application`` configured by ``env`` alone, with the ``transcodings`` its events need.

    A subclass's class variable ``env`` gives defaults the composition root may override;
    ``snapshotting_intervals`` turns snapshotting on, as in the library.
    """

    def __init__(self, *, env: Mapping[str, str], transcodings: Sequence[Transcoding] = ()) -> None:
        self._transcodings = tuple(transcodings)
        super().__init__(env=dict(env))

    def construct_env(self, name: str, env: Any = None) -> Environment:
        values = dict(type(self).env)
        if type(self).is_snapshotting_enabled or type(self).snapshotting_intervals:
            values["IS_SNAPSHOTTING_ENABLED"] = "y"
        return Environment(name, {**values, **dict(env or {})})

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in self._transcodings:
            transcoder.register(transcoding)
