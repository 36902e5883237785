from __future__ import annotations

import datetime as dt

import pytest

from application.commands import PeriodCommand, ProviderSelectionCommand, QueryCommand
from application.errors import InvalidRequestError
from application.validation import validate
from domain.providers import Provider

SUBJECT = "19121212-1212"
TODAY = dt.date(2026, 11, 25)


def command(**changes: object) -> QueryCommand:
    fields: dict[str, object] = {
        "client_request_id": "req-1",
        "organisation_number": "212000-0142",
        "organisation_name": "Testkommun",
        "caseworker_id": "HL000001",
        "case_id": "EKB-2026-0001",
        "purpose": "FINANCIAL_ASSISTANCE_CASE",
        "legal_basis": "SOL_11_KAP_11",
        "period": PeriodCommand((2026, 5, 1), (2026, 10, 31)),
        "subjects": (SUBJECT,),
        "providers": (),
    }
    fields.update(changes)
    return QueryCommand(**fields)  # type: ignore[arg-type]


def violations(cmd: QueryCommand) -> dict[str, str]:
    with pytest.raises(InvalidRequestError) as refused:
        validate(cmd, today=TODAY)
    return {v.field: v.description for v in refused.value.violations}


def test_a_complete_query_without_providers_includes_all_eight() -> None:
    query = validate(command(), today=TODAY)
    assert [s.provider for s in query.selections] == list(Provider)
    assert all(s.period == query.period for s in query.selections)


def test_a_provider_may_have_its_own_period() -> None:
    own = PeriodCommand((2026, 1, 1), (2026, 3, 31))
    query = validate(command(providers=(ProviderSelectionCommand("CSN", own),)), today=TODAY)
    (selection,) = query.selections
    assert selection.provider is Provider.CSN
    assert selection.period.start.month == 1


def test_every_broken_rule_is_reported_at_once_by_field_name() -> None:
    found = violations(
        command(
            organisation_number="212000-0143",
            caseworker_id="",
            case_id=" ",
            purpose="",
            legal_basis="UNKNOWN_7",
            period=PeriodCommand((2026, 10, 31), (2026, 5, 1)),
            subjects=(SUBJECT, "19121212-1213", SUBJECT),
        )
    )
    assert set(found) == {
        "asking_organisation.organisation_number",
        "caseworker_id",
        "case_id",
        "purpose",
        "legal_basis",
        "period",
        "subjects[1]",
        "subjects[2]",
    }
    assert "check digit" in found["subjects[1]"]
    assert "repeats" in found["subjects[2]"]


def test_no_violation_ever_repeats_the_value_it_refused() -> None:
    bad = "19121212-1213"
    with pytest.raises(InvalidRequestError) as refused:
        validate(command(subjects=(bad,), case_id="x" * 65), today=TODAY)
    text = str(refused.value) + repr(refused.value.violations)
    assert bad not in text
    assert "x" * 65 not in text


@pytest.mark.parametrize("count", [0, 11])
def test_a_query_covers_one_to_ten_subjects(count: int) -> None:
    subjects = tuple(SUBJECT for _ in range(count))
    assert "1 to 10" in violations(command(subjects=subjects))["subjects"]


def test_a_missing_or_impossible_date_is_named_precisely() -> None:
    found = violations(command(period=PeriodCommand((0, 0, 0), (2026, 2, 30))))
    assert found == {"period.start": "is required", "period.end": "is not a valid calendar date"}
    assert "required" in violations(command(period=None))["period"]


def test_a_period_longer_than_two_years_is_refused() -> None:
    found = violations(command(period=PeriodCommand((2020, 1, 1), (2026, 1, 1))))
    assert "longer than" in found["period"]


def test_repeated_or_unknown_providers_are_refused() -> None:
    found = violations(
        command(
            providers=(
                ProviderSelectionCommand("CSN"),
                ProviderSelectionCommand("CSN"),
                ProviderSelectionCommand("UNKNOWN_42"),
                ProviderSelectionCommand(""),
            )
        )
    )
    assert found == {
        "providers[1].provider": "repeats an earlier provider of the query",
        "providers[2].provider": "is not a known value",
        "providers[3].provider": "is required",
    }


def test_control_characters_in_identifiers_are_refused() -> None:
    assert "printable" in violations(command(case_id="EKB\x00-1"))["case_id"]


@pytest.mark.parametrize(
    ("start", "end", "field", "rule"),
    [
        ((2026, 11, 26), (2026, 12, 31), "period.start", "must not be after today"),
        ((2100, 1, 1), (2100, 12, 31), "period.start", "must not be after today"),
        ((9999, 1, 1), (9999, 12, 31), "period.start", "must not be after today"),
        ((2026, 1, 1), (2027, 11, 27), "period.end", "must not be more than 366 days after today"),
    ],
)
def test_a_period_that_has_not_begun_or_ends_far_ahead_is_refused_naming_the_end(
    start: tuple[int, int, int], end: tuple[int, int, int], field: str, rule: str
) -> None:
    found = violations(command(period=PeriodCommand(start, end)))
    assert found[field] == rule
    own = PeriodCommand(start, end)
    found = violations(command(providers=(ProviderSelectionCommand("CSN", own),)))
    assert found[f"providers[0].{field}"] == rule


def test_a_period_up_to_today_and_reaching_a_year_ahead_is_accepted() -> None:
    today = validate(command(period=PeriodCommand((2026, 11, 25), (2027, 11, 26))), today=TODAY)
    assert today.period.start == TODAY
    assert today.period.end == dt.date(2027, 11, 26)
    with pytest.raises(InvalidRequestError):  # the same period, seen a day earlier
        validate(
            command(period=PeriodCommand((2026, 11, 25), (2027, 11, 26))),
            today=TODAY - dt.timedelta(days=1),
        )


def test_a_subject_born_after_today_is_refused() -> None:
    tomorrow = "20261126-0007"  # born the day after TODAY (a valid check digit)
    found = violations(command(subjects=(tomorrow,)))
    assert found == {"subjects[0]": "must not hold a date of birth after today"}
