"""Two instances of the Parties application on one durable store change the same party at
the same moment: the store's optimistic concurrency lets exactly one save win, and the other
caller gets ``ConflictError`` (eventsourcing's ``IntegrityError``), never a lost update."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from application.demo import seed_demo
from application.errors import ConflictError
from application.parties import Parties
from application.party_views import PartyView
from domain.party.aggregate import party_id
from domain.party.values import BreachNotifier
from infrastructure.settings import Settings
from tests.integration.party_world import DEMO, DEMO_DIGITS, MONDAY_MORNING, World, open_world


@pytest.fixture
def two_worlds(durable_store_settings: Settings) -> Iterator[tuple[World, World]]:
    first = open_world(durable_store_settings)
    seed_demo(first.parties, first.agreements, MONDAY_MORNING)
    second = open_world(durable_store_settings)
    yield first, second
    second.close()
    first.close()


def read_together(
    monkeypatch: pytest.MonkeyPatch, barrier: threading.Barrier, *apps: Parties
) -> None:
    """Each app's command waits, after reading the party, until the other has read it too."""
    for app in apps:
        real_get = app.repository.get

        def get(aggregate_id: Any, *args: Any, real_get: Any = real_get, **kwargs: Any) -> Any:
            aggregate = real_get(aggregate_id, *args, **kwargs)
            if aggregate_id == party_id(DEMO_DIGITS) and kwargs.get("deepcopy_from_cache", True):
                barrier.wait(timeout=20)
            return aggregate

        monkeypatch.setattr(app.repository, "get", get)


def outcome(command: Callable[[], PartyView]) -> PartyView | ConflictError:
    try:
        return command()
    except ConflictError as conflict:
        return conflict


def test_of_two_concurrent_changes_to_one_party_exactly_one_wins_and_the_other_conflicts(
    two_worlds: tuple[World, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_worlds
    version_before: int = first.parties.repository.get(party_id(DEMO_DIGITS)).version
    read_together(monkeypatch, threading.Barrier(2), first.parties, second.parties)

    with ThreadPoolExecutor(max_workers=2) as pool:
        breach = pool.submit(outcome, lambda: first.parties.notify_breach(DEMO, BreachNotifier.SKR))
        notice = pool.submit(outcome, lambda: second.parties.give_withdrawal_notice(DEMO))
        results = [breach.result(timeout=30), notice.result(timeout=30)]

    conflicts = [r for r in results if isinstance(r, ConflictError)]
    wins = [r for r in results if isinstance(r, PartyView)]
    assert (len(wins), len(conflicts)) == (1, 1)
    monkeypatch.undo()
    stored = second.parties.party(DEMO).deadlines
    breach_won = isinstance(results[0], PartyView)
    assert (stored.cure_period_ends_on is not None) is breach_won
    assert (stored.withdrawal_effective_on is not None) is not breach_won
    assert first.parties.repository.get(party_id(DEMO_DIGITS)).version == version_before + 1


def test_the_loser_succeeds_when_it_tries_again_on_the_fresh_state(
    two_worlds: tuple[World, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_worlds
    read_together(monkeypatch, threading.Barrier(2), first.parties, second.parties)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(
                outcome,
                [
                    lambda: first.parties.notify_breach(DEMO, BreachNotifier.SKR),
                    lambda: second.parties.give_withdrawal_notice(DEMO),
                ],
            )
        )
    monkeypatch.undo()
    if isinstance(results[1], ConflictError):
        retried = second.parties.give_withdrawal_notice(DEMO)
    else:
        retried = first.parties.notify_breach(DEMO, BreachNotifier.SKR)
    deadlines = retried.deadlines
    assert deadlines.cure_period_ends_on is not None
    assert deadlines.withdrawal_effective_on is not None


def test_two_instances_seeding_the_demo_at_once_both_finish_with_one_demo(
    durable_store_settings: Settings,
) -> None:
    worlds = [open_world(durable_store_settings) for _ in range(2)]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            seeded = [
                pool.submit(seed_demo, w.parties, w.agreements, MONDAY_MORNING) for w in worlds
            ]
            for future in seeded:
                future.result(timeout=60)
        for world in worlds:
            assert len(world.parties.parties()) == 9
            assert len(world.parties.caseworkers(DEMO)) == 1
            assert len(world.agreements.versions()) == 8
            assert len(world.agreements.annual_fees()) == 4
    finally:
        for world in worlds:
            world.close()
