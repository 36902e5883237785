"""Leaving: withdrawal (004 § 17.1), forced exit (§ 17.3), early termination (§ 18.1;
001 § 7.1) and a provider's changed qualification conditions (001 § 7.2)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.clauses import RuleBrokenError
from domain.party.aggregate import Party
from domain.party.values import BreachNotifier, DecisionBody, PartyRole, PartyStatus
from domain.providers import Provider
from tests.unit.domain.party.builders import (
    SKATTEVERKET,
    SKR,
    at,
    connected,
    founded_provider,
)


@pytest.mark.parametrize(
    ("notice", "effective"),
    [
        (dt.date(2026, 6, 30), dt.date(2026, 12, 31)),  # six months before the year's end
        (dt.date(2026, 7, 1), dt.date(2027, 12, 31)),  # too late for this year
        (dt.date(2027, 1, 4), dt.date(2027, 12, 31)),
        (dt.date(2026, 12, 31), dt.date(2027, 12, 31)),
    ],
)
def test_a_withdrawal_notice_by_30_june_takes_effect_on_31_december_else_a_year_later_004_17_1(
    notice: dt.date, effective: dt.date
) -> None:
    party = connected()
    party.give_withdrawal_notice(at=at(notice.year, notice.month, notice.day, hour=23))
    assert party.withdrawal_effective_on == effective
    assert party.deadlines().withdrawal_effective_on == effective


def test_the_notice_day_is_the_swedish_day_even_late_in_the_evening_utc() -> None:
    party = connected()
    # 22:30 UTC on 30 June is 00:30 on 1 July in Stockholm: too late for this year.
    party.give_withdrawal_notice(at=dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.UTC))
    assert party.withdrawal_effective_on == dt.date(2027, 12, 31)


def test_a_withdrawn_party_is_in_force_through_31_december_and_gone_on_1_january() -> None:
    party = connected()
    party.give_withdrawal_notice(at=at(2026, 6, 30))
    assert party.may_query_on(dt.date(2026, 12, 31))
    assert party.status_on(dt.date(2027, 1, 1)) is PartyStatus.WITHDRAWN
    assert not party.may_query_on(dt.date(2027, 1, 1))


def test_only_a_municipality_or_a_data_provider_withdraws_by_notice_and_only_once_004_17_1() -> (
    None
):
    skr = Party.found(
        organisation=SKR,
        name="SKR",
        roles=frozenset({PartyRole.SKR}),
        provider=None,
        at=at(2021, 7, 1),
    )
    with pytest.raises(RuleBrokenError) as refused:
        skr.give_withdrawal_notice(at=at(2026, 3, 2))
    assert refused.value.clause == "004 § 17.1"
    provider = founded_provider()
    provider.give_withdrawal_notice(at=at(2026, 3, 2))
    with pytest.raises(RuleBrokenError):
        provider.give_withdrawal_notice(at=at(2026, 3, 3))


def test_after_skr_s_breach_notice_the_party_has_60_days_to_cure_004_18_1() -> None:
    party = connected()
    party.notify_breach(BreachNotifier.SKR, at=at(2026, 4, 1))
    assert party.deadlines().cure_period_ends_on == dt.date(2026, 5, 31)
    with pytest.raises(RuleBrokenError) as early:
        party.terminate_for_breach(at=at(2026, 5, 31, hour=23))
    assert (early.value.rule, early.value.clause) == ("the cure period has not ended", "004 § 18.1")
    party.terminate_for_breach(at=at(2026, 6, 1))
    assert party.status_on(dt.date(2026, 6, 1)) is PartyStatus.TERMINATED
    assert not party.may_query_on(dt.date(2026, 6, 1))
    assert party.may_query_on(dt.date(2026, 5, 31))


def test_after_the_operator_s_notice_a_municipality_has_30_days_to_cure_001_7_1() -> None:
    party = connected()
    party.notify_breach(BreachNotifier.OPERATOR, at=at(2026, 4, 1))
    deadlines = party.deadlines()
    assert deadlines.cure_period_ends_on == dt.date(2026, 5, 1)
    assert deadlines.cure_notified_by is BreachNotifier.OPERATOR
    with pytest.raises(RuleBrokenError) as early:
        party.terminate_for_breach(at=at(2026, 5, 1))
    assert early.value.clause == "001 § 7.1"
    party.terminate_for_breach(at=at(2026, 5, 2))
    assert party.terminated_on == dt.date(2026, 5, 2)


def test_the_operator_s_30_day_notice_concerns_a_municipality_only_001_7_1() -> None:
    with pytest.raises(RuleBrokenError) as refused:
        founded_provider().notify_breach(BreachNotifier.OPERATOR, at=at(2026, 4, 1))
    assert refused.value.clause == "001 § 7.1"


def test_a_breach_cured_in_time_cannot_end_the_connection() -> None:
    party = connected()
    party.notify_breach(BreachNotifier.SKR, at=at(2026, 4, 1))
    party.record_breach_remedied(at=at(2026, 5, 31))
    assert party.deadlines().cure_period_ends_on is None
    with pytest.raises(RuleBrokenError) as refused:
        party.terminate_for_breach(at=at(2026, 7, 1))
    assert refused.value.rule == "there is no open breach notice"


def test_a_cure_after_the_period_has_ended_is_refused() -> None:
    party = connected()
    party.notify_breach(BreachNotifier.SKR, at=at(2026, 4, 1))
    with pytest.raises(RuleBrokenError):
        party.record_breach_remedied(at=at(2026, 6, 1))


def test_a_forced_exit_after_an_authority_s_decision_ends_access_on_its_day_004_17_3() -> None:
    party = connected()
    party.record_forced_exit(DecisionBody.COURT, dt.date(2026, 4, 15), at=at(2026, 4, 1))
    assert party.deadlines().forced_exit_on == dt.date(2026, 4, 15)
    assert party.may_query_on(dt.date(2026, 4, 14))
    assert party.status_on(dt.date(2026, 4, 15)) is PartyStatus.EXITED
    with pytest.raises(RuleBrokenError):
        party.give_withdrawal_notice(at=at(2026, 4, 16))


def test_a_forced_exit_is_not_backdated_004_17_3() -> None:
    with pytest.raises(RuleBrokenError) as refused:
        connected().record_forced_exit(
            DecisionBody.GOVERNMENT, dt.date(2026, 3, 31), at=at(2026, 4, 1)
        )
    assert refused.value.clause == "004 § 17.3"


def test_the_earliest_ending_wins() -> None:
    party = connected()
    party.give_withdrawal_notice(at=at(2026, 3, 20))
    party.record_forced_exit(DecisionBody.AUTHORITY, dt.date(2026, 9, 1), at=at(2026, 4, 1))
    assert party.status_on(dt.date(2026, 9, 1)) is PartyStatus.EXITED
    assert party.status_on(dt.date(2027, 1, 1)) is PartyStatus.EXITED


def test_after_a_provider_s_changed_conditions_the_municipality_has_30_days_to_comply_001_7_2() -> (
    None
):
    party = connected()
    party.notify_qualification_change(SKATTEVERKET, at=at(2026, 4, 1))
    (change,) = party.deadlines().compliance_deadlines
    assert (change.provider_organisation, change.comply_by) == (SKATTEVERKET, dt.date(2026, 5, 1))
    with pytest.raises(RuleBrokenError) as early:
        party.stop_provider_service(SKATTEVERKET, at=at(2026, 5, 1))
    assert (early.value.rule, early.value.clause) == (
        "the 30 days to comply have not ended",
        "001 § 7.2",
    )
    party.stop_provider_service(SKATTEVERKET, at=at(2026, 5, 2))
    assert party.stopped_providers == [SKATTEVERKET]
    assert party.deadlines().compliance_deadlines == ()
    assert party.may_query_on(dt.date(2026, 5, 2))  # the other providers still serve it


def test_a_municipality_that_complies_in_time_keeps_the_provider_001_7_2() -> None:
    party = connected()
    party.notify_qualification_change(SKATTEVERKET, at=at(2026, 4, 1))
    party.record_qualification_compliance(SKATTEVERKET, at=at(2026, 5, 1))
    with pytest.raises(RuleBrokenError):
        party.stop_provider_service(SKATTEVERKET, at=at(2026, 6, 1))
    assert party.stopped_providers == []


def test_a_party_that_is_not_connected_gets_no_breach_notice() -> None:
    party = Party.apply_to_join(
        organisation="2021006073",
        name="Transportstyrelsen",
        role=PartyRole.DATA_PROVIDER,
        provider=Provider.TRANSPORTSTYRELSEN,
        existing_parties=[SKR],
        at=at(2026, 3, 2),
    )
    with pytest.raises(RuleBrokenError) as refused:
        party.notify_breach(BreachNotifier.SKR, at=at(2026, 3, 3))
    assert refused.value.rule == "the party is not connected"
