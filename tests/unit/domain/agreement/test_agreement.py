"""The agreement documents: precedence (001 § 4.1), versions (§ 4.2), digital announcement and
acknowledgement (000), and the annual per-capita fee (004 § 13.6; 000)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain.agreement.aggregate import Agreement, UnknownVersionError
from domain.agreement.values import AgreementDocument as Doc
from domain.agreement.values import VersionNumber, fee_per_inhabitant, prevailing
from domain.clauses import RuleBrokenError
from domain.errors import InvalidValueError
from domain.providers import STOCKHOLM

MUNICIPALITY, OPERATOR, SKR = "2120000142", "2021005521", "2220000315"
PARTIES = [MUNICIPALITY, OPERATOR, SKR]


def at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 9, tzinfo=STOCKHOLM)


def v(label: str) -> VersionNumber:
    return VersionNumber.parse(label)


def agreement_of_2021() -> Agreement:
    """Every document at 1.0 from 1 July 2021; the service description at 1.1 from 2023."""
    agreement = Agreement.establish(at=at(2021, 6, 1))
    for document in Doc:
        agreement.announce(
            document, v("1.0"), dt.date(2021, 7, 1), addressees=PARTIES, at=at(2021, 6, 1)
        )
    agreement.announce(
        Doc.SERVICE_DESCRIPTION_AND_TERMS,
        v("1.1"),
        dt.date(2023, 1, 17),
        addressees=PARTIES,
        at=at(2023, 1, 10),
    )
    return agreement


def test_the_governing_documents_come_in_the_falling_order_of_001_4_1() -> None:
    governing = agreement_of_2021().governing_on(dt.date(2024, 1, 1))
    assert [d.document for d in governing] == [
        Doc.AGREEMENT,
        Doc.DEFINITIONS,
        Doc.MUNICIPAL_CONNECTION_AGREEMENT,
        Doc.PROCESSOR_AGREEMENT,
        Doc.SERVICE_DESCRIPTION_AND_TERMS,
        Doc.LIABILITY_RULES,
        Doc.GENERAL_TERMS,
    ]


@pytest.mark.parametrize(
    ("day", "version"),
    [(dt.date(2023, 1, 16), "1.0"), (dt.date(2023, 1, 17), "1.1"), (dt.date(2026, 1, 1), "1.1")],
)
def test_the_version_in_effect_on_a_day_governs_and_a_later_one_prevails_001_4_2(
    day: dt.date, version: str
) -> None:
    governing = {d.document: d for d in agreement_of_2021().governing_on(day)}
    assert governing[Doc.SERVICE_DESCRIPTION_AND_TERMS].version == version
    assert governing[Doc.GENERAL_TERMS].version == "1.0"


def test_before_any_version_takes_effect_nothing_governs() -> None:
    assert agreement_of_2021().governing_on(dt.date(2021, 6, 30)) == []


def test_in_a_conflict_the_higher_document_prevails_001_4_1() -> None:
    assert prevailing(Doc.GENERAL_TERMS, Doc.PROCESSOR_AGREEMENT) is Doc.PROCESSOR_AGREEMENT
    assert prevailing(Doc.MUNICIPAL_CONNECTION_AGREEMENT, Doc.LIABILITY_RULES) is (
        Doc.MUNICIPAL_CONNECTION_AGREEMENT
    )
    assert prevailing(Doc.AGREEMENT, Doc.DEFINITIONS) is None  # listed together, first


def test_a_new_version_is_later_than_every_earlier_one_and_never_takes_effect_before_it() -> None:
    agreement = agreement_of_2021()
    with pytest.raises(RuleBrokenError) as older:
        agreement.announce(
            Doc.SERVICE_DESCRIPTION_AND_TERMS,
            v("1.0.1"),
            dt.date(2026, 1, 1),
            addressees=PARTIES,
            at=at(2025, 12, 1),
        )
    assert older.value.clause == "001 § 4.2"
    with pytest.raises(RuleBrokenError):
        agreement.announce(
            Doc.SERVICE_DESCRIPTION_AND_TERMS,
            v("1.2"),
            dt.date(2022, 1, 1),
            addressees=PARTIES,
            at=at(2025, 12, 1),
        )
    agreement.announce(
        Doc.SERVICE_DESCRIPTION_AND_TERMS,
        v("1.10"),
        dt.date(2026, 1, 1),
        addressees=PARTIES,
        at=at(2025, 12, 1),
    )
    assert agreement.latest_version(Doc.SERVICE_DESCRIPTION_AND_TERMS) is not None


def test_a_version_number_looks_like_one() -> None:
    assert v("1.10").parts > v("1.9").parts
    for bad in ("", "v1", "1.", "1..2", "1.2.3.4.5"):
        with pytest.raises(InvalidValueError):
            VersionNumber.parse(bad)


def test_each_addressee_s_acknowledgement_of_an_announced_change_is_tracked_000() -> None:
    agreement = agreement_of_2021()
    agreement.acknowledge(
        Doc.SERVICE_DESCRIPTION_AND_TERMS, v("1.1"), MUNICIPALITY, at=at(2023, 1, 20)
    )
    done, pending = agreement.acknowledged(Doc.SERVICE_DESCRIPTION_AND_TERMS, v("1.1"))
    assert done == {MUNICIPALITY: dt.date(2023, 1, 20)}
    assert pending == [OPERATOR, SKR]
    with pytest.raises(RuleBrokenError) as twice:
        agreement.acknowledge(
            Doc.SERVICE_DESCRIPTION_AND_TERMS, v("1.1"), MUNICIPALITY, at=at(2023, 1, 21)
        )
    assert twice.value.clause == "000"


def test_only_an_addressee_acknowledges_and_only_an_announced_version() -> None:
    agreement = agreement_of_2021()
    with pytest.raises(RuleBrokenError):
        agreement.acknowledge(Doc.GENERAL_TERMS, v("1.0"), "2120001355", at=at(2023, 1, 20))
    with pytest.raises(UnknownVersionError):
        agreement.acknowledge(Doc.GENERAL_TERMS, v("2.0"), MUNICIPALITY, at=at(2023, 1, 20))


def fees_per_skr() -> Agreement:
    agreement = Agreement.establish(at=at(2015, 1, 1))
    for year, fee in ((2015, "1.00"), (2016, "1.00"), (2017, "0.80"), (2018, "0.60")):
        agreement.set_annual_fee(year, Decimal(fee), at=at(year - 1, 11, 1))
    return agreement


@pytest.mark.parametrize(
    ("year", "per_inhabitant", "amount"),
    [
        (2015, "1.00", "975551.00"),
        (2016, "1.00", "975551.00"),
        (2017, "0.80", "780440.80"),
        (2018, "0.60", "585330.60"),
        (2026, "0.60", "585330.60"),  # 0.60 from 2018 until SKR sets another
    ],
)
def test_the_invoice_is_the_year_s_fee_times_the_population_in_ore_004_13_6(
    year: int, per_inhabitant: str, amount: str
) -> None:
    agreement = fees_per_skr()
    assert agreement.fee_for(year).per_inhabitant == Decimal(per_inhabitant)
    invoice = agreement.invoice_amount(year, 975_551)
    assert invoice == Decimal(amount)
    assert invoice.as_tuple().exponent == -2


def test_a_later_decision_of_skr_for_a_year_replaces_the_fee() -> None:
    agreement = fees_per_skr()
    agreement.set_annual_fee(2027, Decimal("0.55"), at=at(2026, 11, 1))
    assert agreement.invoice_amount(2027, 1001) == Decimal("550.55")
    assert agreement.invoice_amount(2026, 1001) == Decimal("600.60")


def test_there_is_no_fee_before_2015() -> None:
    agreement = fees_per_skr()
    with pytest.raises(RuleBrokenError) as refused:
        agreement.fee_for(2014)
    assert refused.value.clause == "004 § 13.6"
    with pytest.raises(RuleBrokenError):
        agreement.set_annual_fee(2014, Decimal("1.00"), at=at(2014, 1, 1))


@pytest.mark.parametrize("bad", ["0.605", "-1", "NaN", "Infinity"])
def test_a_fee_is_a_non_negative_amount_in_whole_ore(bad: str) -> None:
    with pytest.raises(InvalidValueError):
        fee_per_inhabitant(Decimal(bad))
