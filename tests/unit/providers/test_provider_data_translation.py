"""Provider records to protobuf: every field of every record survives unchanged."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from typing import Any

import attrs
import pytest
from google.protobuf.message import Message
from google.type.date_pb2 import Date

from adapters.grpc.generated.ssbtek.v1 import provider_data_pb2 as pb
from adapters.grpc.provider_data_translation import record_to_proto
from adapters.providers.simulated import simulated_record
from domain.identity import PersonalIdentityNumber
from domain.provider_data import (
    ArbetsformedlingenRecord,
    BenefitPayment,
    CapitalIncome,
    CsnRecord,
    EarnedIncome,
    ForsakringskassanRecord,
    MigrationsverketRecord,
    PensionAmount,
    PensionPayment,
    PensionsmyndighetenRecord,
    Permit,
    ProviderData,
    SkatteverketRecord,
    StudentFinancePayment,
    SupportDecision,
    TransportstyrelsenRecord,
    UnemploymentFundsRecord,
    UnemploymentPayment,
    Vehicle,
)
from domain.providers import Provider
from domain.query.values import Period
from tests import canaries

_TWO_DECIMALS = re.compile(r"-?\d+\.\d{2}")
ONEOF_CASE = {
    ArbetsformedlingenRecord: "arbetsformedlingen",
    CsnRecord: "csn",
    ForsakringskassanRecord: "forsakringskassan",
    MigrationsverketRecord: "migrationsverket",
    PensionsmyndighetenRecord: "pensionsmyndigheten",
    SkatteverketRecord: "skatteverket",
    UnemploymentFundsRecord: "unemployment_funds",
    TransportstyrelsenRecord: "transportstyrelsen",
}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


FULL_RECORDS: list[ProviderData] = [
    ArbetsformedlingenRecord(
        protected_identity=True,
        registered_job_seeker=True,
        job_seeker_category="Deltidsarbetslös",
        registered_on=day("2016-11-18"),
        extent_percent=75,
        deregistered_on=day("2024-02-29"),
        latest_activity_report_on=day("2024-02-14"),
        unemployment_fund="Kommunals arbetslöshetskassa",
        support_decisions=(
            SupportDecision("AKTIVITETSSTOD", 100, day("2023-01-02"), day("2023-06-30")),
            SupportDecision("ETABLERINGSERSATTNING", 50, day("2023-08-01"), day("2024-01-31")),
        ),
    ),
    CsnRecord(
        protected_identity=True,
        payments=(
            StudentFinancePayment(
                support_form="GRUND",
                description="Studiemedel för studier i Sverige",
                payment_date=day("2024-01-25"),
                status="Utbetald",
                covers_from=day("2024-01-01"),
                covers_to=day("2024-01-28"),
                grant_amount=Decimal("3616"),
                loan_amount=Decimal("8060.5"),
            ),
        ),
    ),
    ForsakringskassanRecord(
        protected_identity=True,
        payments=(
            BenefitPayment(
                benefit_code="SJP",
                benefit_name="Sjukpenning",
                payment_date=day("2024-03-25"),
                covers_from=day("2024-02-01"),
                covers_to=day("2024-02-29"),
                gross_amount=Decimal("12345.67"),
                tax_amount=Decimal("3703.70"),
                net_amount=Decimal("8641.97"),
            ),
        ),
    ),
    MigrationsverketRecord(
        protected_identity=False,
        home_country="ERITREA",
        entered_on=day("2015-09-01"),
        permits=(
            Permit(
                case_type="UAT",
                case_type_name="UPPEHÅLLS- OCH ARBETSTILLSTÅND",
                decision_code="BEV",
                decision_code_name="ANSÖKAN BEVILJAS",
                kind="TUT",
                kind_name="TIDSBEGRÄNSAT UPPEHÅLLSTILLSTÅND",
                validity="TIDBEGRANSAT",
                decided_on=day("2016-05-12"),
                applied_on=day("2015-09-12"),
                valid_from=day("2016-05-12"),
                valid_to=day("2019-05-11"),
                revoked_on=day("2018-01-09"),
            ),
            Permit(
                case_type="UT",
                case_type_name="UPPEHÅLLSTILLSTÅND",
                decision_code="BEV",
                decision_code_name="ANSÖKAN BEVILJAS",
                kind="PUT",
                kind_name="PERMANENT UPPEHÅLLSTILLSTÅND",
                validity="PERMANENT",
                decided_on=day("2019-04-02"),
            ),
        ),
    ),
    PensionsmyndighetenRecord(
        protected_identity=True,
        payments=(
            PensionPayment(
                payment_date=day("2024-01-18"),
                covers_from=day("2024-01-01"),
                covers_to=day("2024-01-31"),
                gross_amount=Decimal("17230"),
                net_amount=Decimal("13950"),
                benefits=(
                    PensionAmount("PM:AP", "Allmän pension", Decimal("14230")),
                    PensionAmount("PM:BTI", "Bostadstillägg", Decimal("3000")),
                ),
                deductions=(PensionAmount("PM:PS", "Preliminär skatt", Decimal("3280")),),
            ),
        ),
    ),
    SkatteverketRecord(
        protected_identity=True,
        earned_income=(
            EarnedIncome(2023, Decimal("312400"), Decimal("-4500"), Decimal("78100")),
            EarnedIncome(2024, Decimal("0"), Decimal("0"), Decimal("0")),
        ),
        capital_income=(CapitalIncome(2023, Decimal("12345"), Decimal("666"), Decimal("0")),),
    ),
    UnemploymentFundsRecord(
        protected_identity=False,
        payments=(
            UnemploymentPayment(
                fund="Akademikernas a-kassa",
                payment_date=day("2013-11-23"),
                covers_from=day("2013-11-03"),
                covers_to=day("2013-11-03"),
                compensation_days=Decimal("2.5"),
                net_after_tax=Decimal("1250.50"),
                net_after_deductions=Decimal("1250.5"),
            ),
        ),
    ),
    TransportstyrelsenRecord(
        protected_identity=False,
        vehicles=(
            Vehicle("ABC001", "Volvo", 2012, "PERSONBIL", "V70"),
            Vehicle("ABC02D", "HONDA", 2001, "MOTORCYKEL", "SH300A"),
        ),
    ),
]

SPARSE_RECORDS: list[ProviderData] = [
    ArbetsformedlingenRecord(protected_identity=False, registered_job_seeker=False),
    CsnRecord(protected_identity=False),
    ForsakringskassanRecord(protected_identity=False),
    MigrationsverketRecord(protected_identity=False),
    PensionsmyndighetenRecord(protected_identity=False),
    SkatteverketRecord(protected_identity=False),
    UnemploymentFundsRecord(protected_identity=False),
    TransportstyrelsenRecord(protected_identity=False),
]


def simulated_records() -> list[ProviderData]:
    rng = random.Random(9)
    period = Period.of(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    people = [
        PersonalIdentityNumber.parse(canaries.personnummer(rng, coordination=i % 4 == 0))
        for i in range(150)
    ]
    return [
        record
        for person in people
        for provider in Provider
        if not (record := simulated_record(provider, person, period)).is_empty
    ]


def assert_carried_over(value: Any, message: Message, path: str) -> None:
    """Every attrs field of ``value`` equals the proto field of the same name, and no more."""
    names = [field.name for field in attrs.fields(type(value))]
    assert sorted(names) == sorted(f.name for f in message.DESCRIPTOR.fields), path
    for name in names:
        expected, where = getattr(value, name), f"{path}.{name}"
        actual = getattr(message, name)
        if expected is None:
            assert not message.HasField(name), where
        elif isinstance(expected, bool | int | str):
            assert type(actual) is type(expected), where
            assert actual == expected, where
        elif isinstance(expected, Decimal):
            assert isinstance(actual, str), where
            assert Decimal(actual) == expected, where
            if name != "compensation_days":
                assert _TWO_DECIMALS.fullmatch(actual), where
        elif isinstance(expected, dt.date):
            assert isinstance(actual, Date), where
            assert (actual.year, actual.month, actual.day) == (
                expected.year,
                expected.month,
                expected.day,
            ), where
        elif isinstance(expected, tuple):
            assert len(actual) == len(expected), where
            for index, (item, item_message) in enumerate(zip(expected, actual, strict=True)):
                assert_carried_over(item, item_message, f"{where}[{index}]")
        else:
            raise AssertionError(f"{where}: no rule for a {type(expected).__name__}")


@pytest.mark.parametrize("record", FULL_RECORDS + SPARSE_RECORDS, ids=lambda r: type(r).__name__)
def test_every_field_of_a_record_survives_record_to_proto_unchanged(record: ProviderData) -> None:
    data = record_to_proto(record)
    case = data.WhichOneof("record")
    assert case == ONEOF_CASE[type(record)]
    assert_carried_over(record, getattr(data, case), case)


def test_every_field_of_every_simulated_record_survives_record_to_proto_unchanged() -> None:
    records = simulated_records()
    assert {type(record) for record in records} == set(ONEOF_CASE)
    for record in records:
        data = record_to_proto(record)
        case = data.WhichOneof("record")
        assert case == ONEOF_CASE[type(record)]
        assert_carried_over(record, getattr(data, case), case)


def test_the_full_examples_set_every_optional_field() -> None:
    """So that the field-by-field test above really sees each field set."""
    for record in FULL_RECORDS:
        message = getattr(record_to_proto(record), ONEOF_CASE[type(record)])
        for field in message.DESCRIPTOR.fields:
            if field.is_repeated:
                assert len(getattr(message, field.name)) > 0, field.name
            elif field.message_type is not None or field.has_presence:
                assert message.HasField(field.name), field.name


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("1250.5"), "1250.50"),
        (Decimal("3616"), "3616.00"),
        (Decimal("-0.01"), "-0.01"),
        (Decimal("123456789012.99"), "123456789012.99"),
    ],
)
def test_amounts_become_sek_strings_with_two_decimals_without_rounding(
    amount: Decimal, text: str
) -> None:
    record = ForsakringskassanRecord(
        protected_identity=False,
        payments=(
            BenefitPayment(
                "BOB",
                "Bostadsbidrag",
                day("2024-01-20"),
                day("2024-01-01"),
                day("2024-01-31"),
                amount,
                amount,
                amount,
            ),
        ),
    )
    payment = record_to_proto(record).forsakringskassan.payments[0]
    assert (payment.gross_amount, payment.tax_amount, payment.net_amount) == (text, text, text)


def test_a_record_of_an_unknown_kind_is_refused() -> None:
    @attrs.frozen
    class Stranger:
        protected_identity: bool = False
        is_empty: bool = True

    with pytest.raises(TypeError, match="Stranger"):
        record_to_proto(Stranger())


def test_the_proto_message_names_match_the_domain() -> None:
    assert pb.ProviderData.DESCRIPTOR.oneofs_by_name["record"].fields
    cases = {field.name for field in pb.ProviderData.DESCRIPTOR.oneofs_by_name["record"].fields}
    assert cases == set(ONEOF_CASE.values())
