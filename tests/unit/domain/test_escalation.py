"""The escalation ladder of 004 § 10, with the cooperation of § 5 as its first rung."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from domain.clauses import RuleBrokenError
from domain.escalation.aggregate import Escalation, Stage
from domain.escalation.values import Acting, Forum, Party
from domain.party.values import PartyRole
from domain.providers import STOCKHOLM

AT = dt.datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)
MUNICIPALITY = Party("2120000142", PartyRole.MUNICIPALITY)
OPERATOR = Party("2021005521", PartyRole.OPERATOR)
PROVIDER = Party("2021002114", PartyRole.DATA_PROVIDER)
SKR = Party("2220000315", PartyRole.SKR)


def dispute(*parties: Party, by: Acting | None = None, forum: Forum | None = None) -> Escalation:
    return Escalation.raise_dispute(
        escalation_id=uuid.uuid4(),
        raised_by=by or Acting(parties[0]),
        parties=list(parties),
        subject="DNR-2026/481",
        forum=forum,
        at=AT,
    )


def at_level_2() -> Escalation:
    case = dispute(MUNICIPALITY, OPERATOR)
    case.escalate(Acting(MUNICIPALITY), at=AT)
    case.submit_view(Acting(MUNICIPALITY), "VIEW-KOMMUN-1", at=AT)
    case.submit_view(Acting(OPERATOR), "VIEW-FK-1", at=AT)
    case.record_recommendation("REC-1", at=AT)
    case.escalate(Acting(OPERATOR), at=AT)
    return case


def test_a_dispute_starts_at_the_lowest_council_that_seats_every_party() -> None:
    """§ 10.1 lowest effective level; § 5.7 who sits in which operations council."""
    assert dispute(MUNICIPALITY, OPERATOR).forum is Forum.OPERATIONS_COUNCIL_MUNICIPALITIES
    assert dispute(PROVIDER, OPERATOR).forum is Forum.OPERATIONS_COUNCIL_PROVIDERS
    assert dispute(MUNICIPALITY, PROVIDER).forum is Forum.EXPERT_COUNCIL
    assert dispute(MUNICIPALITY, OPERATOR).stage is Stage.COUNCIL


def test_a_council_that_does_not_seat_every_party_is_refused() -> None:
    with pytest.raises(RuleBrokenError, match="does not seat"):
        dispute(MUNICIPALITY, PROVIDER, forum=Forum.OPERATIONS_COUNCIL_PROVIDERS)
    with pytest.raises(RuleBrokenError, match="first handled"):
        dispute(MUNICIPALITY, OPERATOR, forum=Forum.STEERING_GROUP)


def test_a_dispute_is_between_parties_and_raised_by_one_of_them() -> None:
    with pytest.raises(RuleBrokenError, match="at least two"):
        dispute(MUNICIPALITY)
    with pytest.raises(RuleBrokenError, match="party to it"):
        dispute(MUNICIPALITY, OPERATOR, by=Acting(PROVIDER))


def test_a_dispute_settled_at_the_council_goes_no_further() -> None:
    case = dispute(MUNICIPALITY, OPERATOR)
    case.refer_to_expert_council(Acting(OPERATOR), at=AT)
    assert case.forum is Forum.EXPERT_COUNCIL
    case.settle("PROTOKOLL-2026-11", at=AT)
    assert case.stage is Stage.SETTLED
    with pytest.raises(RuleBrokenError, match="decided"):
        case.escalate(Acting(MUNICIPALITY), at=AT)


def test_level_1_recommends_with_the_views_given_and_records_who_gave_none() -> None:
    """§ 10.2: "Det åligger objektstyrgruppen att ta fram underlag och formulera
    rekommendationer till nästa nivå. Det åligger varje Part att vid behov formulera sin
    syn på problemet." A missing view does not hold the ladder up."""
    case = dispute(MUNICIPALITY, OPERATOR)
    case.escalate(Acting(MUNICIPALITY), at=AT)
    assert (case.stage, case.level, case.forum) == (Stage.LEVEL_1, 1, Forum.STEERING_GROUP)
    with pytest.raises(RuleBrokenError, match="recommendation before level 2"):
        case.escalate(Acting(MUNICIPALITY), at=AT)
    case.submit_view(Acting(MUNICIPALITY), "VIEW-KOMMUN-1", at=AT)
    assert case.missing_views == [OPERATOR]
    case.record_recommendation("REC-1", at=AT)
    (recorded,) = [
        e for e in case.collect_events() if isinstance(e, Escalation.RecommendationRecorded)
    ]
    assert recorded.without_view == [OPERATOR.organisation_number]
    case.escalate(Acting(OPERATOR), at=AT)
    assert (case.stage, case.level, case.forum) == (Stage.LEVEL_2, 2, Forum.DIRECTORS)


def test_level_2_decides_finally() -> None:
    """§ 10.3: GD/kanslichef/VD beslutar slutgiltig hantering."""
    case = at_level_2()
    case.decide("BESLUT-2026-12", at=AT)
    assert (case.stage, case.outcome) == (Stage.DECIDED, "BESLUT-2026-12")
    with pytest.raises(RuleBrokenError):
        case.request_material(Forum.STEERING_GROUP, "OSG", at=AT)


def test_level_2_can_send_the_dispute_back_to_the_steering_group_for_more_material() -> None:
    """§ 10.3: "kan därvid utse objektstyrgruppen ... att ta fram ytterligare underlag"."""
    case = at_level_2()
    case.request_material(Forum.STEERING_GROUP, "OSG", at=AT)
    assert case.stage is Stage.LEVEL_1
    with pytest.raises(RuleBrokenError, match="recommendation before level 2"):
        case.escalate(Acting(MUNICIPALITY), at=AT)
    case.record_recommendation("REC-2", at=AT)
    case.escalate(Acting(MUNICIPALITY), at=AT)
    case.decide("BESLUT-2", at=AT)
    assert case.recommendations == ["REC-1", "REC-2"]


def test_level_2_can_ask_another_group_for_material() -> None:
    """§ 10.3: "... eller annan grupp att ta fram ytterligare underlag"."""
    case = at_level_2()
    case.request_material(Forum.OTHER_GROUP, "JURIDISK-ARBETSGRUPP", at=AT)
    assert (case.stage, case.forum) == (Stage.MATERIAL_REQUESTED, Forum.OTHER_GROUP)
    with pytest.raises(RuleBrokenError):
        case.decide("BESLUT-3", at=AT)
    case.provide_material("PM-2027-01", at=AT)
    case.decide("BESLUT-3", at=AT)
    assert case.material == ["PM-2027-01"]


def test_skr_acts_for_a_municipality_under_its_power_of_attorney() -> None:
    """§ 10.1: "SKR bistår kommunerna vid tvistlösning med stöd av fullmakt"."""
    for_municipality = Acting(SKR, MUNICIPALITY, "FULLMAKT-2026-07")
    case = dispute(MUNICIPALITY, OPERATOR, by=for_municipality)
    assert case.raised_by == for_municipality
    case.escalate(for_municipality, at=AT)
    case.submit_view(for_municipality, "VIEW-KOMMUN-SKR", at=AT)
    assert case.views == {MUNICIPALITY.organisation_number: "VIEW-KOMMUN-SKR"}
    assert case.missing_views == [OPERATOR]


@pytest.mark.parametrize(
    ("party", "for_", "attorney", "rule"),
    [
        (SKR, MUNICIPALITY, "", "under its power of attorney"),
        (OPERATOR, MUNICIPALITY, "FULLMAKT-1", "only SKR"),
        (SKR, PROVIDER, "FULLMAKT-1", "only for municipalities"),
        (MUNICIPALITY, None, "FULLMAKT-1", "only when acting for another"),
    ],
)
def test_only_skr_acts_for_another_party_and_only_for_a_municipality_with_a_power_of_attorney(
    party: Party, for_: Party | None, attorney: str, rule: str
) -> None:
    with pytest.raises(RuleBrokenError, match=rule):
        Acting(party, for_, attorney)


def test_a_party_outside_the_dispute_cannot_escalate_it_even_through_skr() -> None:
    case = dispute(MUNICIPALITY, OPERATOR)
    other_municipality = Party("2120000134", PartyRole.MUNICIPALITY)
    with pytest.raises(RuleBrokenError, match="only a party"):
        case.escalate(Acting(SKR, other_municipality, "FULLMAKT-9"), at=AT)
