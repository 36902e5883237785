from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValueError
from domain.identity import OrganisationNumber, PersonalIdentityNumber
from tests import canaries


def test_personnummer_in_12_digits_with_or_without_hyphen_is_accepted() -> None:
    assert PersonalIdentityNumber.parse("19121212-1212").digits == "191212121212"
    assert PersonalIdentityNumber.parse("191212121212").digits == "191212121212"


def test_samordningsnummer_with_day_plus_60_is_accepted_and_known_as_such() -> None:
    number = canaries.personnummer(random.Random(3), coordination=True)
    parsed = PersonalIdentityNumber.parse(number)
    assert parsed.is_coordination_number
    assert parsed.birth_date.day == int(number[6:8]) - 60


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("19121212-1213", "check digit"),
        ("1212121212", "12 digits"),
        ("19121312-1212", "date"),
        ("19120231-1212", "date"),
        ("191212121212 1", "12 digits"),
        ("١٩١٢١٢١٢١٢١٢", "12 digits"),  # Arabic-Indic digits are digits to str.isdigit()
        ("", "12 digits"),
    ],
)
def test_invalid_personnummer_is_refused_naming_the_rule_not_the_value(raw: str, rule: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        PersonalIdentityNumber.parse(raw)
    assert rule in refused.value.description
    if raw:
        assert raw not in str(refused.value)


def test_personnummer_never_shows_its_digits_in_repr_or_str() -> None:
    number = PersonalIdentityNumber.parse("19121212-1212")
    assert "1212" not in repr(number)
    assert "1212" not in str(number)
    assert "1212" not in repr([number])


@given(st.integers(min_value=0, max_value=2**32))
def test_every_generated_valid_number_parses_and_one_wrong_check_digit_does_not(seed: int) -> None:
    number = canaries.personnummer(random.Random(seed), coordination=seed % 2 == 0)
    assert PersonalIdentityNumber.parse(number).digits == number
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(InvalidValueError):
        PersonalIdentityNumber.parse(wrong)


@given(st.text(max_size=20))
def test_any_text_either_parses_or_is_refused_cleanly(raw: str) -> None:
    try:
        parsed = PersonalIdentityNumber.parse(raw)
    except InvalidValueError:
        return
    assert len(parsed.digits) == 12
    assert parsed.birth_date <= dt.date(9999, 12, 31)


def test_organisation_number_of_a_municipality_is_accepted_in_both_forms() -> None:
    assert str(OrganisationNumber.parse("2120000142")) == "212000-0142"
    assert OrganisationNumber.parse("212000-0142").digits == "2120000142"
    assert OrganisationNumber.parse("162120000142").digits == "2120000142"


def test_organisation_number_with_wrong_check_digit_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="not a valid organisation number"):
        OrganisationNumber.parse("212000-0143")
