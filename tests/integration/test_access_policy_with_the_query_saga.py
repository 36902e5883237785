"""The Parties application as the query saga's ``AccessPolicy``: the demo's first query goes
through, and the saga's own pseudonym of a caseworker is the one the roster knows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from application.commands import PeriodCommand, QueryCommand
from application.demo import DEMO_CASEWORKER, seed_demo
from application.errors import PermissionDeniedError
from application.ports import AccessPolicy
from application.queries import Queries
from domain.party.values import AccessRefusal
from domain.query.aggregate import RejectionReason
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.conftest import TEST_KEY
from tests.fakes import fake_base_services
from tests.integration.party_world import DEMO, MONDAY_MORNING, World, open_world
from tests.unit.application.test_query_saga import command as saga_command


def command(*, organisation_number: str, caseworker_id: str) -> QueryCommand:
    """The saga tests' query, for a period that has begun on the world's Monday in March."""
    return saga_command(
        organisation_number=organisation_number,
        caseworker_id=caseworker_id,
        period=PeriodCommand((2026, 1, 1), (2026, 2, 28)),
    )


@pytest.fixture
def world() -> Iterator[World]:
    world = open_world(Settings(store=Store.MEMORY, pseudonym_key_hex=TEST_KEY))
    seed_demo(world.parties, world.agreements, MONDAY_MORNING)
    yield world
    world.close()


@pytest.fixture
def queries(world: World) -> Iterator[Queries]:
    policy: AccessPolicy = world.parties
    queries = build_queries(
        Settings(store=Store.MEMORY, pseudonym_key_hex=TEST_KEY),
        base_services=fake_base_services(),
        clock=world.clock,
        access_policy=policy,
    )
    yield queries
    queries.close()


def test_every_access_refusal_is_a_reason_the_query_saga_records() -> None:
    assert {r.value for r in AccessRefusal} <= {r.value for r in RejectionReason}


async def test_the_demo_caseworker_s_first_query_is_answered(queries: Queries) -> None:
    answer = await queries.submit(command(organisation_number=DEMO, caseworker_id=DEMO_CASEWORKER))
    assert answer.parts


async def test_a_revoked_caseworker_is_refused_by_the_saga(queries: Queries, world: World) -> None:
    world.parties.revoke_caseworker(DEMO, DEMO_CASEWORKER)
    with pytest.raises(PermissionDeniedError) as refused:
        await queries.submit(command(organisation_number=DEMO, caseworker_id=DEMO_CASEWORKER))
    assert refused.value.reason == "CASEWORKER_REVOKED"


async def test_an_unregistered_caseworker_is_refused_by_the_saga(queries: Queries) -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        await queries.submit(command(organisation_number=DEMO, caseworker_id="HL000002"))
    assert refused.value.reason == "CASEWORKER_UNKNOWN"
