"""What every application shares: configured by the composition root alone, with its own
class defaults, snapshotting where it asks for it, and the transcodings it is given."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import pytest
from eventsourcing.persistence import JSONTranscoder

from adapters.persistence.transcodings import DateAsISO
from application.base import ServiceApplication
from domain.audit.seal_chain import SealChain


class _Defaults(ServiceApplication):
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "7"}


class _Snapshots(ServiceApplication):
    snapshotting_intervals = {SealChain: 10}  # noqa: RUF012 (the library's class variable)


def test_the_process_environment_does_not_configure_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.sqlite")
    monkeypatch.setenv("AGGREGATE_CACHE_MAXSIZE", "99")
    application = _Defaults(env={})
    assert application.env.get("PERSISTENCE_MODULE") is None
    assert application.env.get("AGGREGATE_CACHE_MAXSIZE") == "7"


def test_the_composition_root_overrides_the_class_defaults() -> None:
    application = _Defaults(env={"AGGREGATE_CACHE_MAXSIZE": "3"})
    assert application.env.get("AGGREGATE_CACHE_MAXSIZE") == "3"


def test_snapshotting_intervals_turn_snapshots_on() -> None:
    assert _Snapshots(env={}).snapshots is not None
    assert _Defaults(env={}).snapshots is None


def test_the_given_transcodings_are_registered() -> None:
    application = _Defaults(env={}, transcodings=[DateAsISO()])
    transcoder = application.mapper.transcoder
    assert isinstance(transcoder, JSONTranscoder)
    day = dt.date(2026, 6, 30)
    assert transcoder.decode(transcoder.encode({"day": day})) == {"day": day}
