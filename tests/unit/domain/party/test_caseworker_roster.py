"""Caseworkers: the assurance before any query (004 § 9.2.9), revocation and removal (§ 12.4.5)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.clauses import RuleBrokenError
from domain.party.roster import CaseworkerRoster, UnknownCaseworkerError, roster_id
from domain.party.values import AccessRefusal, CaseworkerState, RemovalReason
from tests.unit.domain.party.builders import MUNICIPALITY, at

ANNA = "a1" * 16  # pseudonyms: the roster never sees a caseworker's id
BO = "b2" * 16
DAY = dt.date(2026, 3, 10)


def roster_with_anna(*, assured: bool = True) -> CaseworkerRoster:
    roster = CaseworkerRoster.open(organisation=MUNICIPALITY, at=at(2026, 3, 9))
    roster.register(ANNA, at=at(2026, 3, 9))
    if assured:
        roster.sign_assurance(ANNA, dt.date(2026, 3, 9), at=at(2026, 3, 9))
    return roster


def test_the_roster_of_a_municipality_has_an_id_derived_from_its_organisation_number() -> None:
    roster = roster_with_anna()
    assert roster.id == roster_id(MUNICIPALITY)
    assert roster.id != roster_id("2120001355")


def test_a_caseworker_may_query_only_after_signing_the_assurance_004_9_2_9() -> None:
    roster = roster_with_anna(assured=False)
    assert roster.refusal(ANNA, DAY) is AccessRefusal.CASEWORKER_WITHOUT_ASSURANCE
    roster.sign_assurance(ANNA, dt.date(2026, 3, 10), at=at(2026, 3, 10))
    assert roster.refusal(ANNA, DAY) is None
    assert roster.caseworker(ANNA).state is CaseworkerState.AUTHORISED
    assert roster.caseworker(ANNA).assurance_signed_on == dt.date(2026, 3, 10)


def test_an_assurance_cannot_be_signed_in_the_future_nor_twice() -> None:
    roster = roster_with_anna(assured=False)
    with pytest.raises(RuleBrokenError) as future:
        roster.sign_assurance(ANNA, dt.date(2026, 3, 11), at=at(2026, 3, 10))
    assert future.value.clause == "004 § 9.2.9"
    roster.sign_assurance(ANNA, dt.date(2026, 3, 10), at=at(2026, 3, 10))
    with pytest.raises(RuleBrokenError):
        roster.sign_assurance(ANNA, dt.date(2026, 3, 10), at=at(2026, 3, 10))


def test_a_caseworker_nobody_registered_is_unknown() -> None:
    roster = roster_with_anna()
    assert roster.refusal(BO, DAY) is AccessRefusal.CASEWORKER_UNKNOWN
    with pytest.raises(UnknownCaseworkerError) as unknown:
        roster.sign_assurance(BO, DAY, at=at(2026, 3, 10))
    assert BO not in str(unknown.value)


def test_a_revoked_caseworker_is_refused_at_once_and_no_assurance_restores_it_004_12_4_5() -> None:
    roster = roster_with_anna()
    roster.revoke(ANNA, at=at(2026, 3, 10, hour=14))
    assert roster.refusal(ANNA, DAY) is AccessRefusal.CASEWORKER_REVOKED
    assert roster.caseworker(ANNA).revoked_on == DAY
    with pytest.raises(RuleBrokenError) as restore:
        roster.sign_assurance(ANNA, DAY, at=at(2026, 3, 10))
    assert restore.value.clause == "004 § 12.4.5"
    with pytest.raises(RuleBrokenError):
        roster.register(ANNA, at=at(2026, 3, 11))  # removed first, then registered afresh
    with pytest.raises(RuleBrokenError):
        roster.revoke(ANNA, at=at(2026, 3, 11))


@pytest.mark.parametrize("reason", list(RemovalReason))
def test_a_caseworker_who_leaves_or_changes_tasks_is_removed_and_unknown_004_12_4_5(
    reason: RemovalReason,
) -> None:
    roster = roster_with_anna()
    roster.remove(ANNA, reason, at=at(2026, 3, 10))
    assert roster.refusal(ANNA, DAY) is AccessRefusal.CASEWORKER_UNKNOWN
    assert roster.caseworker(ANNA).state is CaseworkerState.REMOVED
    assert roster.caseworker(ANNA).removal_reason is reason
    with pytest.raises(UnknownCaseworkerError):
        roster.revoke(ANNA, at=at(2026, 3, 11))


def test_a_removed_caseworker_who_comes_back_signs_a_new_assurance() -> None:
    roster = roster_with_anna()
    roster.remove(ANNA, RemovalReason.CHANGED_TASKS, at=at(2026, 3, 10))
    roster.register(ANNA, at=at(2026, 6, 1))
    assert roster.refusal(ANNA, dt.date(2026, 6, 1)) is AccessRefusal.CASEWORKER_WITHOUT_ASSURANCE


def test_a_caseworker_is_registered_once_until_removed() -> None:
    roster = roster_with_anna()
    with pytest.raises(RuleBrokenError):
        roster.register(ANNA, at=at(2026, 3, 10))


def test_events_carry_the_pseudonym_and_the_day_never_anything_else_about_the_caseworker() -> None:
    roster = roster_with_anna()
    roster.revoke(ANNA, at=at(2026, 3, 10))
    events = roster.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Opened",
        "CaseworkerRegistered",
        "AssuranceSigned",
        "CaseworkerRevoked",
    ]
    revoked = events[-1]
    assert isinstance(revoked, CaseworkerRoster.CaseworkerRevoked)
    assert (revoked.caseworker, revoked.revoked_on) == (ANNA, DAY)
