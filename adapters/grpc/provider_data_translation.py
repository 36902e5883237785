"""Provider records to protobuf: every field of every record, carried over unaltered.

Amounts become SEK strings with exactly two decimals (a record's amounts are whole öre,
so the string holds the same number); dates become ``google.type.Date``; an absent
optional value stays unset. The records are personal data: nothing here logs them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from google.type.date_pb2 import Date

from adapters.grpc.generated.ssbtek.v1 import provider_data_pb2 as pb
from domain.provider_data import (
    ArbetsformedlingenRecord,
    BenefitPayment,
    CsnRecord,
    ForsakringskassanRecord,
    MigrationsverketRecord,
    PensionAmount,
    PensionsmyndighetenRecord,
    SkatteverketRecord,
    TransportstyrelsenRecord,
    UnemploymentFundsRecord,
)
from domain.query.answer import ProviderRecord


def _sek(amount: Decimal) -> str:
    """``Decimal("1250.5")`` -> ``"1250.50"``: two decimals, never rounded (whole öre)."""
    return f"{amount:.2f}"


def _date(day: dt.date) -> Date:
    return Date(year=day.year, month=day.month, day=day.day)


def _optional_date(day: dt.date | None) -> Date | None:
    return None if day is None else _date(day)


def _arbetsformedlingen(record: ArbetsformedlingenRecord) -> pb.ArbetsformedlingenRecord:
    return pb.ArbetsformedlingenRecord(
        protected_identity=record.protected_identity,
        registered_job_seeker=record.registered_job_seeker,
        job_seeker_category=record.job_seeker_category,
        registered_on=_optional_date(record.registered_on),
        extent_percent=record.extent_percent,
        deregistered_on=_optional_date(record.deregistered_on),
        latest_activity_report_on=_optional_date(record.latest_activity_report_on),
        unemployment_fund=record.unemployment_fund,
        support_decisions=[
            pb.SupportDecision(
                benefit_type=decision.benefit_type,
                extent_percent=decision.extent_percent,
                valid_from=_date(decision.valid_from),
                valid_to=_date(decision.valid_to),
            )
            for decision in record.support_decisions
        ],
    )


def _csn(record: CsnRecord) -> pb.CsnRecord:
    return pb.CsnRecord(
        protected_identity=record.protected_identity,
        payments=[
            pb.StudentFinancePayment(
                support_form=payment.support_form,
                description=payment.description,
                payment_date=_date(payment.payment_date),
                status=payment.status,
                covers_from=_date(payment.covers_from),
                covers_to=_date(payment.covers_to),
                grant_amount=_sek(payment.grant_amount),
                loan_amount=_sek(payment.loan_amount),
            )
            for payment in record.payments
        ],
    )


def _benefit_payment(payment: BenefitPayment) -> pb.BenefitPayment:
    return pb.BenefitPayment(
        benefit_code=payment.benefit_code,
        benefit_name=payment.benefit_name,
        payment_date=_date(payment.payment_date),
        covers_from=_date(payment.covers_from),
        covers_to=_date(payment.covers_to),
        gross_amount=_sek(payment.gross_amount),
        tax_amount=_sek(payment.tax_amount),
        net_amount=_sek(payment.net_amount),
    )


def _forsakringskassan(record: ForsakringskassanRecord) -> pb.ForsakringskassanRecord:
    return pb.ForsakringskassanRecord(
        protected_identity=record.protected_identity,
        payments=[_benefit_payment(payment) for payment in record.payments],
    )


def _migrationsverket(record: MigrationsverketRecord) -> pb.MigrationsverketRecord:
    return pb.MigrationsverketRecord(
        protected_identity=record.protected_identity,
        home_country=record.home_country,
        entered_on=_optional_date(record.entered_on),
        permits=[
            pb.Permit(
                case_type=permit.case_type,
                case_type_name=permit.case_type_name,
                decision_code=permit.decision_code,
                decision_code_name=permit.decision_code_name,
                kind=permit.kind,
                kind_name=permit.kind_name,
                validity=permit.validity,
                decided_on=_date(permit.decided_on),
                applied_on=_optional_date(permit.applied_on),
                valid_from=_optional_date(permit.valid_from),
                valid_to=_optional_date(permit.valid_to),
                revoked_on=_optional_date(permit.revoked_on),
            )
            for permit in record.permits
        ],
    )


def _pension_amount(row: PensionAmount) -> pb.PensionAmount:
    return pb.PensionAmount(code=row.code, description=row.description, amount=_sek(row.amount))


def _pensionsmyndigheten(record: PensionsmyndighetenRecord) -> pb.PensionsmyndighetenRecord:
    return pb.PensionsmyndighetenRecord(
        protected_identity=record.protected_identity,
        payments=[
            pb.PensionPayment(
                payment_date=_date(payment.payment_date),
                covers_from=_date(payment.covers_from),
                covers_to=_date(payment.covers_to),
                gross_amount=_sek(payment.gross_amount),
                net_amount=_sek(payment.net_amount),
                benefits=[_pension_amount(row) for row in payment.benefits],
                deductions=[_pension_amount(row) for row in payment.deductions],
            )
            for payment in record.payments
        ],
    )


def _skatteverket(record: SkatteverketRecord) -> pb.SkatteverketRecord:
    return pb.SkatteverketRecord(
        protected_identity=record.protected_identity,
        earned_income=[
            pb.EarnedIncome(
                taxation_year=year.taxation_year,
                earned_income=_sek(year.earned_income),
                business_income=_sek(year.business_income),
                final_tax=_sek(year.final_tax),
            )
            for year in record.earned_income
        ],
        capital_income=[
            pb.CapitalIncome(
                taxation_year=year.taxation_year,
                total_capital_income=_sek(year.total_capital_income),
                capital_surplus=_sek(year.capital_surplus),
                capital_deficit=_sek(year.capital_deficit),
            )
            for year in record.capital_income
        ],
    )


def _unemployment_funds(record: UnemploymentFundsRecord) -> pb.UnemploymentFundsRecord:
    return pb.UnemploymentFundsRecord(
        protected_identity=record.protected_identity,
        payments=[
            pb.UnemploymentPayment(
                fund=payment.fund,
                payment_date=_date(payment.payment_date),
                covers_from=_date(payment.covers_from),
                covers_to=_date(payment.covers_to),
                compensation_days=f"{payment.compensation_days:f}",
                net_after_tax=_sek(payment.net_after_tax),
                net_after_deductions=_sek(payment.net_after_deductions),
            )
            for payment in record.payments
        ],
    )


def _transportstyrelsen(record: TransportstyrelsenRecord) -> pb.TransportstyrelsenRecord:
    return pb.TransportstyrelsenRecord(
        protected_identity=record.protected_identity,
        vehicles=[
            pb.Vehicle(
                registration_number=vehicle.registration_number,
                make=vehicle.make,
                model_year=vehicle.model_year,
                vehicle_type=vehicle.vehicle_type,
                trade_name=vehicle.trade_name,
            )
            for vehicle in record.vehicles
        ],
    )


def record_to_proto(record: ProviderRecord) -> pb.ProviderData:
    """The ``ProviderData`` message holding ``record`` in the oneof case of its provider."""
    match record:
        case ArbetsformedlingenRecord():
            return pb.ProviderData(arbetsformedlingen=_arbetsformedlingen(record))
        case CsnRecord():
            return pb.ProviderData(csn=_csn(record))
        case ForsakringskassanRecord():
            return pb.ProviderData(forsakringskassan=_forsakringskassan(record))
        case MigrationsverketRecord():
            return pb.ProviderData(migrationsverket=_migrationsverket(record))
        case PensionsmyndighetenRecord():
            return pb.ProviderData(pensionsmyndigheten=_pensionsmyndigheten(record))
        case SkatteverketRecord():
            return pb.ProviderData(skatteverket=_skatteverket(record))
        case UnemploymentFundsRecord():
            return pb.ProviderData(unemployment_funds=_unemployment_funds(record))
        case TransportstyrelsenRecord():
            return pb.ProviderData(transportstyrelsen=_transportstyrelsen(record))
    raise TypeError(f"no protobuf translation for a {type(record).__name__}")
