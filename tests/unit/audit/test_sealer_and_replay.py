"""The sealer's rounds, and the replay's merge of several logs (in-memory stores)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.persistence.stored_format import LibraryJsonFormat
from adapters.security.signing import Ed25519Signer, Ed25519Verifier
from application.audit.replay import Replay, ReplayFilter
from application.audit.sealer import run_sealer, seal_now
from application.audit.seals import AuditSeals
from application.audit.verification import verify_logs
from application.queries import Queries
from domain.audit.seal_chain import seal_chain_id
from domain.providers import STOCKHOLM
from domain.query.aggregate import Query, RejectionReason
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock, fake_base_services

NOON = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)


def memory_queries() -> Queries:
    settings = Settings(store=Store.MEMORY, pseudonym_key_hex=TEST_KEY)
    return build_queries(settings, base_services=fake_base_services(), clock=FakeClock(NOON))


def refuse(queries: Queries, at: dt.datetime, organisation: str = "2120000142") -> None:
    queries.save(
        Query.reject(
            query_id=uuid.uuid4(),
            asking_organisation=organisation,
            reason=RejectionReason.INVALID_ARGUMENT,
            fields=[],
            at=at,
        )
    )


def minutes(count: float) -> dt.datetime:
    return NOON + dt.timedelta(minutes=count)


async def test_the_sealer_seals_each_round_and_once_more_when_stopped() -> None:
    queries = memory_queries()
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    seals = AuditSeals(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock(NOON), signer=signer
    )
    refuse(queries, minutes(0))
    stop = asyncio.Event()
    sealing = asyncio.create_task(run_sealer(seals, {"queries": queries}, 0.05, stop))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if seals.stored_seals("queries"):
            break
    assert [s.content.last_position for s in seals.stored_seals("queries") if s.content] == [1]
    refuse(queries, minutes(1))
    refuse(queries, minutes(2))
    stop.set()
    await asyncio.wait_for(sealing, 5)
    sealed = [s.content.last_position for s in seals.stored_seals("queries") if s.content]
    assert sealed[-1] == 3
    verdict = verify_logs(
        {"queries": queries.recorder}, seals, Ed25519Verifier([signer.public_key])
    )
    assert verdict.intact
    assert verdict.chains[0].unsealed == 0
    assert await seal_now(seals, {"queries": queries}) == {"queries": []}


async def test_a_sealer_without_a_signing_key_refuses_and_the_failure_is_contained() -> None:
    queries = memory_queries()
    refuse(queries, minutes(0))
    read_only = AuditSeals(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock(NOON))
    with pytest.raises(RuntimeError):
        read_only.seal("queries", queries.recorder)
    assert await seal_now(read_only, {"queries": queries}) == {"queries": []}


def seven_refusals_to_seal_in_threes() -> tuple[Queries, AuditSeals, Ed25519Signer]:
    """A log of seven events and seals of at most three events each."""
    queries = memory_queries()
    for index in range(7):
        refuse(queries, minutes(index))
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    seals = AuditSeals(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=FakeClock(NOON),
        signer=signer,
        segment_limit=3,
    )
    return queries, seals, signer


def test_a_segment_larger_than_the_limit_gets_several_seals() -> None:
    queries, seals, signer = seven_refusals_to_seal_in_threes()
    made = seals.seal("queries", queries.recorder)
    assert [(s.after_position, s.last_position) for s in made] == [(0, 3), (3, 6), (6, 7)]
    assert verify_logs(
        {"queries": queries.recorder}, seals, Ed25519Verifier([signer.public_key])
    ).intact


def test_sealing_calls_the_pacer_after_every_few_hundred_events_and_seals_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The periodic rounds are paced (``application.pacing``); the seals do not change."""
    monkeypatch.setattr("application.audit.seals.PACED_EVENTS", 2)
    queries, seals, signer = seven_refusals_to_seal_in_threes()
    paced: list[int] = []
    made = seals.seal("queries", queries.recorder, pace=lambda: paced.append(1))
    assert [(s.after_position, s.last_position) for s in made] == [(0, 3), (3, 6), (6, 7)]
    assert len(paced) == 2  # after the 2nd event of each full segment of 3
    assert verify_logs(
        {"queries": queries.recorder}, seals, Ed25519Verifier([signer.public_key])
    ).intact


def test_replay_merges_logs_by_event_time_and_keeps_each_logs_own_order() -> None:
    first, second = memory_queries(), memory_queries()
    refuse(first, minutes(0))
    refuse(second, minutes(1))
    refuse(first, minutes(2))
    refuse(first, minutes(1.5))  # saved later, earlier time: stays after position 2 of its log
    refuse(second, minutes(3), organisation="2021005489")
    replay = Replay(
        {"first": first.recorder, "second": second.recorder}, LibraryJsonFormat(), batch=1
    )
    merged = [(e.application, e.position) for e in replay.events(ReplayFilter())]
    assert merged == [("first", 1), ("second", 1), ("first", 2), ("first", 3), ("second", 2)]
    only = ReplayFilter(
        applications=frozenset({"second"}), asking_organisations=frozenset({"2021005489"})
    )
    assert [(e.application, e.position) for e in replay.events(only)] == [("second", 2)]
    resumed = replay.events(ReplayFilter(), {"first": 2, "second": 1})
    assert [(e.application, e.position) for e in resumed] == [("first", 3), ("second", 2)]


def test_when_another_process_sealed_first_its_seal_stands_and_nothing_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from eventsourcing.persistence import IntegrityError

    from application.audit.sealer import seal_all

    class RacedSeals:
        def seal(self, application: str, log: object, *, pace: object = None) -> list[object]:
            raise IntegrityError("the chain's next version exists")

    queries = memory_queries()
    caplog.set_level("INFO")
    assert seal_all(RacedSeals(), {"queries": queries}) == {"queries": []}  # type: ignore[arg-type]
    assert "sealed the queries log first" in caplog.text


def test_a_long_chain_of_seals_keeps_sealing_from_its_snapshot() -> None:
    queries = memory_queries()
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    seals = AuditSeals(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=FakeClock(NOON),
        signer=signer,
        segment_limit=1,
    )
    for index in range(130):
        refuse(queries, minutes(index))
    assert len(seals.seal("queries", queries.recorder)) == 130
    assert seals.snapshots is not None
    snapshots = list(seals.snapshots.get(seal_chain_id("queries")))
    assert [s.originator_version for s in snapshots] == list(range(10, 131, 10))
    refuse(queries, minutes(131))
    (last,) = seals.seal("queries", queries.recorder)
    assert (last.sequence, last.last_position) == (131, 131)
    assert verify_logs(
        {"queries": queries.recorder}, seals, Ed25519Verifier([signer.public_key])
    ).intact


class _CountingRecorder:
    """A recorder that counts the notifications it hands out."""

    def __init__(self, recorder: Any) -> None:
        self._recorder = recorder
        self.handed_out = 0

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        found = self._recorder.select_notifications(*args, **kwargs)
        self.handed_out += len(found)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recorder, name)


def test_a_replay_by_time_seeks_to_its_start_instead_of_reading_older_history() -> None:
    """ADR 0027: the cost of a month's replay is the month's events, not the whole log's."""
    queries = memory_queries()
    for index in range(40):  # old history, days before the window
        refuse(queries, NOON - dt.timedelta(days=5, minutes=-index))
    for index in range(3):
        refuse(queries, minutes(index), organisation="2021005489")
    for index in range(40):  # and days after it
        refuse(queries, NOON + dt.timedelta(days=5, minutes=index))
    window = ReplayFilter(
        since=minutes(-60),
        until=minutes(60),
        asking_organisations=frozenset({"2021005489"}),
    )
    counted = _CountingRecorder(queries.recorder)
    replay = Replay({"queries": counted}, LibraryJsonFormat(), batch=5)  # type: ignore[dict-item]
    seeking = [(e.application, e.position) for e in replay.events(window)]
    reading_all = Replay({"queries": queries.recorder}, LibraryJsonFormat(), seek=False)
    everything = reading_all.events(window)
    assert seeking == [(e.application, e.position) for e in everything]
    assert seeking == [("queries", 41), ("queries", 42), ("queries", 43)]
    assert counted.handed_out < 20  # a few bisection probes and the window, not 83 events
