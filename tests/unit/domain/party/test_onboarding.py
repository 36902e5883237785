"""Joining the service: 004 § 9 (qualification, the municipality's connection) and 002."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from domain.clauses import RuleBrokenError
from domain.party.aggregate import Party
from domain.party.values import PartyRole, PartyStatus
from domain.providers import Provider
from tests.unit.domain.party.builders import (
    CALENDAR,
    COMPLETE_FORM,
    EXISTING,
    MUNICIPALITY,
    OPERATOR,
    SKATTEVERKET,
    SKR,
    applied,
    approved,
    at,
    commissioned,
    connected,
)


def test_a_new_party_is_qualified_only_once_every_existing_party_has_accepted_004_9_1_2() -> None:
    party = applied()
    assert party.required_acceptances == sorted(EXISTING)

    party.accept(SKR, at=at(2026, 3, 3))
    party.accept(OPERATOR, at=at(2026, 3, 3))
    assert party.status_on(dt.date(2026, 3, 3)) is PartyStatus.APPLIED
    assert party.pending_acceptances == [SKATTEVERKET]

    party.accept(SKATTEVERKET, at=at(2026, 3, 4))
    assert party.status_on(dt.date(2026, 3, 4)) is PartyStatus.QUALIFIED
    assert party.acceptances == {
        SKR: dt.date(2026, 3, 3),
        OPERATOR: dt.date(2026, 3, 3),
        SKATTEVERKET: dt.date(2026, 3, 4),
    }
    assert [type(e).__name__ for e in party.collect_events()][-2:] == [
        "AcceptanceRecorded",
        "Qualified",
    ]


def test_skr_commissions_the_operator_only_after_every_acceptance_004_9_1_5() -> None:
    party = applied()
    party.accept(SKR, at=at(2026, 3, 3))
    with pytest.raises(RuleBrokenError) as refused:
        party.commission_operator(at=at(2026, 3, 4))
    assert refused.value.clause == "004 § 9.1.5"


def test_only_a_party_that_existed_at_the_application_accepts_it_and_only_once_004_9_1_4() -> None:
    party = applied()
    with pytest.raises(RuleBrokenError) as stranger:
        party.accept("2120001355", at=at(2026, 3, 3))
    assert stranger.value.clause == "004 § 9.1.2"
    party.accept(SKR, at=at(2026, 3, 3))
    with pytest.raises(RuleBrokenError) as twice:
        party.accept(SKR, at=at(2026, 3, 4))
    assert twice.value.clause == "004 § 9.1.4"


def test_the_first_party_with_nobody_to_accept_it_is_qualified_at_once() -> None:
    party = Party.apply_to_join(
        organisation=MUNICIPALITY,
        name="Demo kommun",
        role=PartyRole.MUNICIPALITY,
        provider=None,
        existing_parties=[MUNICIPALITY],
        at=at(2026, 3, 2),
    )
    assert party.required_acceptances == []
    assert party.stage is PartyStatus.QUALIFIED


def test_a_municipality_joins_through_the_connection_procedure_never_as_a_founder_004_9_2() -> None:
    with pytest.raises(RuleBrokenError) as refused:
        Party.found(
            organisation=MUNICIPALITY,
            name="Demo kommun",
            roles=frozenset({PartyRole.MUNICIPALITY}),
            provider=None,
            at=at(2026, 3, 2),
        )
    assert refused.value.clause == "004 § 9.2"
    with pytest.raises(RuleBrokenError):
        Party.apply_to_join(
            organisation=SKR,
            name="SKR",
            role=PartyRole.SKR,
            provider=None,
            existing_parties=[],
            at=at(2026, 3, 2),
        )


def test_the_order_form_is_incomplete_without_a_power_of_attorney_004_9_2_6() -> None:
    party = commissioned()
    with pytest.raises(RuleBrokenError) as refused:
        party.submit_order_form(
            attrs.evolve(COMPLETE_FORM, power_of_attorney_attached=False), at=at(2026, 3, 5)
        )
    assert refused.value.clause == "004 § 9.2.6"
    assert "power of attorney" in refused.value.rule
    with pytest.raises(RuleBrokenError) as no_proof:
        party.submit_order_form(
            attrs.evolve(COMPLETE_FORM, proof_of_authority_attached=False), at=at(2026, 3, 5)
        )
    assert no_proof.value.clause == "004 § 9.2.6"
    assert party.stage is PartyStatus.COMMISSIONED


def test_the_order_form_is_signed_by_an_authorised_representative_004_9_2_5() -> None:
    party = commissioned()
    with pytest.raises(RuleBrokenError) as refused:
        party.submit_order_form(
            attrs.evolve(COMPLETE_FORM, signed_by_authorised_representative=False),
            at=at(2026, 3, 5),
        )
    assert refused.value.clause == "004 § 9.2.5"


def test_a_provider_s_connection_agreement_follows_its_own_clauses_004_9_3_5() -> None:
    provider = commissioned(PartyRole.DATA_PROVIDER)
    with pytest.raises(RuleBrokenError) as refused:
        provider.submit_order_form(
            attrs.evolve(COMPLETE_FORM, power_of_attorney_attached=False), at=at(2026, 3, 5)
        )
    assert refused.value.clause == "004 § 9.3.5"
    provider.submit_order_form(COMPLETE_FORM, at=at(2026, 3, 5))
    provider.approve_integration(at=at(2026, 3, 6), calendar=CALENDAR)
    assert provider.connection_target is None  # 9.3.7 sets no 10-day target for providers
    provider.connect(at=at(2026, 3, 20))
    assert provider.provider is Provider.TRANSPORTSTYRELSEN
    assert provider.status_on(dt.date(2026, 3, 20)) is PartyStatus.CONNECTED


def test_the_integration_is_requested_only_after_skr_commissioned_the_operator_004_9_2_3() -> None:
    party = applied()
    with pytest.raises(RuleBrokenError) as refused:
        party.submit_order_form(COMPLETE_FORM, at=at(2026, 3, 5))
    assert refused.value.clause == "004 § 9.2.3"


def test_the_connection_target_is_ten_swedish_working_days_over_christmas_004_9_2_7() -> None:
    # Approved Friday 18 December 2026: 21, 22, 23, 28, 29, 30 December, 4, 5, 7, 8 January
    # (24-27 and 31 December, 1 and 6 January are not working days).
    party = approved(on=at(2026, 12, 18))
    assert party.connection_target == dt.date(2027, 1, 8)
    assert CALENDAR.working_days_between(dt.date(2026, 12, 18), dt.date(2027, 1, 8)) == 10


def test_an_approval_on_a_saturday_counts_from_the_first_working_day_after_it() -> None:
    # Saturday 7 March 2026: 9-13 and 16-20 March are the ten working days.
    party = approved(on=at(2026, 3, 7))
    assert party.connection_target == dt.date(2026, 3, 20)


@pytest.mark.parametrize(
    ("connected_on", "within"), [(dt.date(2027, 1, 8), True), (dt.date(2027, 1, 11), False)]
)
def test_the_connection_records_whether_it_met_the_ten_day_target(
    connected_on: dt.date, within: bool
) -> None:
    party = approved(on=at(2026, 12, 18))
    party.connect(at=at(connected_on.year, connected_on.month, connected_on.day))
    assert party.connected_within_target is within
    assert party.deadlines().connected_within_target is within


def test_the_agreement_is_in_force_from_the_day_access_is_enabled_004_9_2_8() -> None:
    party = connected(on=at(2026, 3, 9))
    assert party.in_force_from == dt.date(2026, 3, 9)
    assert not party.may_query_on(dt.date(2026, 3, 8))
    assert party.may_query_on(dt.date(2026, 3, 9))


def test_a_municipality_is_connected_only_with_the_vehicle_register_consent_002() -> None:
    party = commissioned()
    party.submit_order_form(COMPLETE_FORM, at=at(2026, 3, 5))
    party.approve_integration(at=at(2026, 3, 6), calendar=CALENDAR)
    with pytest.raises(RuleBrokenError) as refused:
        party.connect(at=at(2026, 3, 9))
    assert refused.value.clause == "002"
    party.record_vehicle_register_consent(dt.date(2026, 3, 9), at=at(2026, 3, 9))
    party.connect(at=at(2026, 3, 9))
    assert party.has_vehicle_register_consent(dt.date(2026, 3, 9))


def test_a_withdrawn_vehicle_register_consent_ends_on_the_day_it_is_withdrawn_002() -> None:
    party = connected()
    party.withdraw_vehicle_register_consent(at=at(2026, 5, 4))
    assert party.has_vehicle_register_consent(dt.date(2026, 5, 3))
    assert not party.has_vehicle_register_consent(dt.date(2026, 5, 4))
    assert party.may_query_on(dt.date(2026, 5, 4))  # the other providers still answer


def test_a_consent_or_an_order_form_cannot_be_dated_in_the_future() -> None:
    party = commissioned()
    with pytest.raises(RuleBrokenError):
        party.record_vehicle_register_consent(dt.date(2026, 3, 6), at=at(2026, 3, 5))
    with pytest.raises(RuleBrokenError):
        party.submit_order_form(
            attrs.evolve(COMPLETE_FORM, signed_on=dt.date(2026, 3, 6)), at=at(2026, 3, 5)
        )


def test_a_data_provider_names_its_base_service_and_only_a_data_provider_does() -> None:
    with pytest.raises(RuleBrokenError):
        Party.found(
            organisation=SKR,
            name="SKR",
            roles=frozenset({PartyRole.SKR}),
            provider=Provider.CSN,
            at=at(2021, 7, 1),
        )
    operator = Party.found(
        organisation=OPERATOR,
        name="Försäkringskassan",
        roles=frozenset({PartyRole.OPERATOR, PartyRole.DATA_PROVIDER}),
        provider=Provider.FORSAKRINGSKASSAN,
        at=at(2021, 7, 1),
    )
    assert operator.roles == {PartyRole.OPERATOR, PartyRole.DATA_PROVIDER}
    assert operator.status_on(dt.date(2021, 7, 1)) is PartyStatus.CONNECTED
