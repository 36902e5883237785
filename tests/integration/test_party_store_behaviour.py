"""The Parties and Agreements applications, one behaviour suite on memory, SQLite and PostgreSQL.

The access decision (the query saga's ``AccessPolicy``) is checked for every refusal
reason, with the caseworker known only by the saga's own pseudonym.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import attrs
import pytest

from application.demo import DEMO_CASEWORKER, seed_demo
from application.errors import InvalidRequestError, NotFoundError, RuleViolationError
from application.ports import AccessDecision
from domain.agreement.values import AgreementDocument
from domain.party.values import (
    BreachNotifier,
    CaseworkerState,
    DecisionBody,
    OrderForm,
    PartyRole,
    PartyStatus,
    RemovalReason,
)
from infrastructure.settings import Settings
from tests.fakes import FakeClock
from tests.integration.party_world import (
    DEMO,
    DEMO_DIGITS,
    GOTHENBURG,
    MONDAY_MORNING,
    SKR,
    World,
    open_world,
)

FORM = OrderForm(MONDAY_MORNING.date(), True, True, True)
ALLOWED = AccessDecision(refusal=None, vehicle_register_consent=True)
NOT_CONNECTED = AccessDecision("ORGANISATION_NOT_CONNECTED", vehicle_register_consent=False)


@pytest.fixture
def world(store_settings: Settings) -> Iterator[World]:
    world = open_world(store_settings)
    seed_demo(world.parties, world.agreements, MONDAY_MORNING)
    yield world
    world.close()


def decide(world: World, caseworker_id: str, at: dt.datetime | None = None) -> AccessDecision:
    pseudonym = world.saga_pseudonym(DEMO_DIGITS, caseworker_id)
    return world.parties.decide(DEMO, pseudonym, at or world.clock.now())


def test_the_demo_municipality_is_connected_and_its_caseworker_may_query(world: World) -> None:
    demo = world.parties.party(DEMO)
    assert demo.status is PartyStatus.CONNECTED
    assert demo.in_force_from == MONDAY_MORNING.date()
    assert demo.acceptances
    assert not demo.pending_acceptances
    assert demo.deadlines.connected_within_target is True
    assert decide(world, DEMO_CASEWORKER) == ALLOWED
    assert {p.organisation_number for p in world.parties.parties()} >= {DEMO, SKR, "202100-5521"}


def test_seeding_again_changes_nothing(world: World) -> None:
    before = world.parties.recorder.max_notification_id()
    agreements_before = world.agreements.recorder.max_notification_id()
    seed_demo(world.parties, world.agreements, MONDAY_MORNING)
    assert world.parties.recorder.max_notification_id() == before
    assert world.agreements.recorder.max_notification_id() == agreements_before


def test_seeding_again_undoes_nothing_someone_did_since(world: World) -> None:
    world.parties.withdraw_vehicle_register_consent(DEMO)
    world.parties.revoke_caseworker(DEMO, DEMO_CASEWORKER)
    seed_demo(world.parties, world.agreements, MONDAY_MORNING)
    assert decide(world, DEMO_CASEWORKER) == AccessDecision("CASEWORKER_REVOKED", False)
    world.parties.record_forced_exit(DEMO, DecisionBody.COURT, None)
    seed_demo(world.parties, world.agreements, MONDAY_MORNING)
    assert world.parties.party(DEMO).status is PartyStatus.EXITED


def test_each_caseworker_refusal_reason_004_9_2_9_and_12_4_5(world: World) -> None:
    parties = world.parties
    assert decide(world, "HL404").refusal == "CASEWORKER_UNKNOWN"

    parties.register_caseworker(DEMO, "HL000002")
    assert decide(world, "HL000002").refusal == "CASEWORKER_WITHOUT_ASSURANCE"
    parties.sign_assurance(DEMO, "HL000002", MONDAY_MORNING.date())
    assert decide(world, "HL000002") == ALLOWED

    revoked = parties.revoke_caseworker(DEMO, "HL000002")
    assert revoked.state is CaseworkerState.REVOKED
    assert decide(world, "HL000002").refusal == "CASEWORKER_REVOKED"

    parties.remove_caseworker(DEMO, DEMO_CASEWORKER, RemovalReason.LEFT_EMPLOYMENT)
    assert decide(world, DEMO_CASEWORKER).refusal == "CASEWORKER_UNKNOWN"


def test_the_caseworker_list_shows_pseudonyms_only(world: World) -> None:
    (only,) = world.parties.caseworkers(DEMO)
    assert only.pseudonym == world.saga_pseudonym(DEMO_DIGITS, DEMO_CASEWORKER)
    assert DEMO_CASEWORKER not in repr(only)


def test_an_organisation_that_never_connected_is_not_connected(world: World) -> None:
    assert world.parties.decide(GOTHENBURG, "any", world.clock.now()) == NOT_CONNECTED
    world.parties.apply(GOTHENBURG, "Göteborgs stad", PartyRole.MUNICIPALITY)
    assert world.parties.decide(GOTHENBURG, "any", world.clock.now()) == NOT_CONNECTED
    assert world.parties.decide(SKR, "any", world.clock.now()) == NOT_CONNECTED
    assert world.parties.decide("not a number", "any", world.clock.now()) == NOT_CONNECTED


def test_a_withdrawal_ends_access_after_31_december_004_17_1(world: World) -> None:
    world.move_to(dt.date(2026, 6, 30))
    view = world.parties.give_withdrawal_notice(DEMO)
    assert view.deadlines.withdrawal_effective_on == dt.date(2026, 12, 31)
    assert decide(world, DEMO_CASEWORKER, world.move_to(dt.date(2026, 12, 31), 23)) == ALLOWED
    assert decide(world, DEMO_CASEWORKER, world.move_to(dt.date(2027, 1, 1), 0)) == NOT_CONNECTED
    assert world.parties.party(DEMO).status is PartyStatus.WITHDRAWN


def test_termination_after_an_uncured_breach_ends_access_004_18_1(world: World) -> None:
    view = world.parties.notify_breach(DEMO, BreachNotifier.SKR)
    assert view.deadlines.cure_period_ends_on == dt.date(2026, 5, 1)
    with pytest.raises(RuleViolationError) as early:
        world.parties.terminate_for_breach(DEMO)
    assert (early.value.rule, early.value.clause) == ("the cure period has not ended", "004 § 18.1")
    world.move_to(dt.date(2026, 5, 2))
    assert world.parties.terminate_for_breach(DEMO).status is PartyStatus.TERMINATED
    assert decide(world, DEMO_CASEWORKER) == NOT_CONNECTED
    assert len(world.parties.caseworkers(DEMO)) == 1  # the record outlives the connection
    with pytest.raises(RuleViolationError):
        world.parties.caseworkers(SKR)


def test_a_forced_exit_ends_access_on_its_day_004_17_3(world: World) -> None:
    world.parties.record_forced_exit(DEMO, DecisionBody.GOVERNMENT, dt.date(2026, 3, 16))
    assert decide(world, DEMO_CASEWORKER, world.move_to(dt.date(2026, 3, 13))) == ALLOWED
    assert decide(world, DEMO_CASEWORKER, world.move_to(dt.date(2026, 3, 16))) == NOT_CONNECTED


def test_without_the_vehicle_register_consent_access_stays_but_vehicles_do_not_002(
    world: World,
) -> None:
    world.parties.withdraw_vehicle_register_consent(DEMO)
    assert decide(world, DEMO_CASEWORKER) == AccessDecision(None, vehicle_register_consent=False)


def test_the_30_days_to_meet_a_provider_s_changed_conditions_001_7_2(world: World) -> None:
    skatteverket = "202100-5448"
    view = world.parties.notify_qualification_change(DEMO, skatteverket)
    (change,) = view.deadlines.compliance_deadlines
    assert (change.provider_organisation, change.comply_by) == (skatteverket, dt.date(2026, 4, 1))
    world.move_to(dt.date(2026, 4, 2))
    assert world.parties.stop_provider_service(DEMO, skatteverket).stopped_providers == (
        skatteverket,
    )
    with pytest.raises(InvalidRequestError) as not_a_provider:
        world.parties.notify_qualification_change(DEMO, SKR)
    assert not_a_provider.value.violations[0].field == "provider_organisation_number"


def test_unanimous_acceptance_and_the_order_form_are_enforced_004_9(world: World) -> None:
    parties = world.parties
    applied = parties.apply(GOTHENBURG, "Göteborgs stad", PartyRole.MUNICIPALITY)
    assert DEMO in applied.pending_acceptances
    assert SKR in applied.pending_acceptances
    with pytest.raises(RuleViolationError) as early:
        parties.commission_operator(GOTHENBURG)
    assert early.value.clause == "004 § 9.1.5"
    with pytest.raises(RuleViolationError):
        parties.apply(GOTHENBURG, "Göteborgs stad", PartyRole.MUNICIPALITY)

    for acceptor in applied.pending_acceptances:
        view = parties.accept(GOTHENBURG, acceptor)
    assert view.status is PartyStatus.QUALIFIED
    parties.commission_operator(GOTHENBURG)
    with pytest.raises(RuleViolationError) as incomplete:
        parties.submit_order_form(GOTHENBURG, attrs.evolve(FORM, power_of_attorney_attached=False))
    assert incomplete.value.clause == "004 § 9.2.6"
    parties.submit_order_form(GOTHENBURG, FORM)
    approved = parties.approve_integration(GOTHENBURG)
    assert approved.deadlines.connection_target == dt.date(2026, 3, 16)
    world.move_to(dt.date(2026, 3, 17))
    assert parties.party(GOTHENBURG).connection_overdue


def test_unknown_things_are_not_found_and_malformed_input_names_its_field(world: World) -> None:
    with pytest.raises(NotFoundError) as party:
        world.parties.party(GOTHENBURG)
    assert party.value.kind == "party"
    with pytest.raises(NotFoundError) as caseworker:
        world.parties.revoke_caseworker(DEMO, "HL404")
    assert caseworker.value.kind == "caseworker"
    with pytest.raises(InvalidRequestError) as malformed:
        world.parties.connect("212000-0143")
    assert [v.field for v in malformed.value.violations] == ["organisation_number"]
    with pytest.raises(InvalidRequestError) as long_id:
        world.parties.register_caseworker(DEMO, "X" * 65)
    assert [v.field for v in long_id.value.violations] == ["caseworker_id"]


def test_the_governing_documents_and_their_acknowledgements_001_4_and_000(world: World) -> None:
    agreements = world.agreements
    governing = agreements.governing_documents()
    assert [g.rank for g in governing] == [1, 1, 2, 3, 4, 5, 6]
    described = governing[4].version
    assert (described.document, described.version) == (
        AgreementDocument.SERVICE_DESCRIPTION_AND_TERMS,
        "1.1",
    )
    assert agreements.governing_documents(dt.date(2022, 6, 1))[4].version.version == "1.0"

    acks = agreements.acknowledge(AgreementDocument.GENERAL_TERMS, "1.0", DEMO)
    assert [a.organisation_number for a in acks.acknowledged] == [DEMO]
    assert SKR in acks.pending
    assert DEMO not in acks.pending
    with pytest.raises(NotFoundError):
        agreements.acknowledgements(AgreementDocument.GENERAL_TERMS, "9.9")


def test_the_invoice_is_the_year_s_fee_times_the_population_004_13_6(world: World) -> None:
    invoice = world.agreements.invoice(DEMO, 2026, 984_748)
    assert (invoice.per_inhabitant, invoice.amount) == (Decimal("0.60"), Decimal("590848.80"))
    assert world.agreements.invoice(DEMO, 2017, 100).amount == Decimal("80.00")
    with pytest.raises(RuleViolationError) as not_a_municipality:
        world.agreements.invoice(SKR, 2026, 100)
    assert not_a_municipality.value.clause == "004 § 13.6"
    with pytest.raises(NotFoundError):
        world.agreements.invoice(GOTHENBURG, 2026, 100)
    world.agreements.set_annual_fee(2027, Decimal("0.55"))
    assert world.agreements.invoice(DEMO, 2027, 100).amount == Decimal("55.00")


def test_what_was_saved_is_there_after_a_restart(durable_store_settings: Settings) -> None:
    world = open_world(durable_store_settings)
    seed_demo(world.parties, world.agreements, MONDAY_MORNING)
    world.parties.register_caseworker(DEMO, "HL000002")
    world.close()

    again = open_world(durable_store_settings)
    try:
        assert again.parties.party(DEMO).status is PartyStatus.CONNECTED
        assert decide(again, DEMO_CASEWORKER) == ALLOWED
        assert decide(again, "HL000002").refusal == "CASEWORKER_WITHOUT_ASSURANCE"
        assert len(again.agreements.annual_fees()) == 4
    finally:
        again.close()


class MovableClock(FakeClock):
    """Monotonic time the test can move forward."""

    def __init__(self, now: dt.datetime) -> None:
        super().__init__(now)
        self.offset_s = 0.0

    def monotonic(self) -> float:
        return super().monotonic() + self.offset_s


def test_an_access_decision_is_reused_until_a_change_or_its_time_is_up(
    durable_store_settings: Settings,
) -> None:
    """A change saved in this process applies to the next query; one saved by another
    process on the same database (another worker) within the decision's time (1 s)."""
    clock = MovableClock(MONDAY_MORNING)
    here = open_world(durable_store_settings, clock)
    elsewhere = open_world(durable_store_settings, clock)
    try:
        seed_demo(here.parties, here.agreements, MONDAY_MORNING)
        pseudonym = here.saga_pseudonym(DEMO_DIGITS, DEMO_CASEWORKER)
        now = clock.now()
        assert here.parties.decided(DEMO, pseudonym, now) is None
        assert here.parties.decide(DEMO, pseudonym, now) == ALLOWED
        assert here.parties.decided(DEMO, pseudonym, now) == ALLOWED
        assert here.parties.decided(DEMO, pseudonym, now + dt.timedelta(days=1)) is None

        here.parties.withdraw_vehicle_register_consent(DEMO)  # saved here: forgotten at once
        assert here.parties.decided(DEMO, pseudonym, now) is None
        without_vehicles = AccessDecision(refusal=None, vehicle_register_consent=False)
        assert here.parties.decide(DEMO, pseudonym, now) == without_vehicles

        elsewhere.parties.revoke_caseworker(DEMO, DEMO_CASEWORKER)  # another process
        assert here.parties.decided(DEMO, pseudonym, now) == without_vehicles
        clock.offset_s += 1.0
        assert here.parties.decided(DEMO, pseudonym, now) is None
        assert here.parties.decide(DEMO, pseudonym, now).refusal == "CASEWORKER_REVOKED"
    finally:
        here.close()
        elsewhere.close()
