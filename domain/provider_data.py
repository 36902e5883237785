"""What each provider says about one subject: PERSONAL DATA, in memory for one query only.

One frozen record class per data provider (004 Bilaga 2), each satisfying the
``ProviderRecord`` protocol of ``domain.query.answer``:

- ``protected_identity``: the provider flags the subject as having a protected identity
  (AF ``Sekretessmarkering``, CSN ``sekretess``, Lefi ``skyddad``, Skatteverket
  ``Sekretessmarkering``). Providers whose answer has no such flag always say ``False``.
- ``is_empty``: the provider has no data about the subject for the period.

Records hold what the provider delivered, in the provider's own code lists (codes are
kept as strings: the lists are the providers' and they grow). Amounts are Swedish kronor
as ``Decimal`` with at most two decimals (whole öre); dates are ``datetime.date``;
sequences are tuples. No record may reach an event, a log line or an error message:
every ``repr`` is masked.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

import attrs

from domain.errors import InvalidValueError

_ORE: Decimal = Decimal("0.01")


def _redacted(self: object) -> str:
    return f"{type(self).__name__}(<personal data redacted>)"


def _whole_ore(_instance: object, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    """An amount is a finite ``Decimal`` in whole öre; the message never holds the value."""
    try:
        valid = isinstance(value, Decimal) and value.is_finite() and value == value.quantize(_ORE)
    except InvalidOperation:  # too many digits to hold in öre
        valid = False
    if not valid:
        raise InvalidValueError(f"{attribute.name} must be a finite amount in whole öre")


# --- Arbetsförmedlingen ---------------------------------------------------------------


@attrs.frozen(repr=False)
class SupportDecision:
    """A decision on financial support (AF ``BeslutInfo/EkonomiskaBeslut/Beslut``)."""

    benefit_type: str  # ErsattningTyp, e.g. AKTIVITETSSTOD, ETABLERINGSERSATTNING
    extent_percent: int  # Omfattning
    valid_from: dt.date  # BeslutFrom
    valid_to: dt.date  # BeslutTom

    __repr__ = _redacted


@attrs.frozen(repr=False)
class ArbetsformedlingenRecord:
    """Registration as job seeker and activity/establishment support (AF ``Svar``)."""

    protected_identity: bool  # Sekretessmarkering
    registered_job_seeker: bool  # Arbetssokande
    job_seeker_category: str | None = None  # ArbetssokandeSKAT, e.g. "Arbetslös"
    registered_on: dt.date | None = None  # ArbetssokandeRegistrerad
    extent_percent: int | None = None  # ArbetssokandeOmfattning
    deregistered_on: dt.date | None = None  # ArbetssokandeAvaktualiserad
    latest_activity_report_on: dt.date | None = None  # SenasteAktivitetsRapportDatum
    unemployment_fund: str | None = None  # Akassetillhorighet
    support_decisions: tuple[SupportDecision, ...] = ()

    __repr__ = _redacted

    @property
    def is_empty(self) -> bool:
        return (
            not self.registered_job_seeker
            and self.registered_on is None
            and self.unemployment_fund is None
            and not self.support_decisions
        )


# --- Centrala studiestödsnämnden ------------------------------------------------------


@attrs.frozen(repr=False)
class StudentFinancePayment:
    """One payment of student finance (CSN ``Utbetalning``), split into grant and loan."""

    support_form: str  # stodform, e.g. GRUND, SB, HUT, SSSTÖD
    description: str  # klartext
    payment_date: dt.date  # utbetdatum
    status: str  # utbetstatus, e.g. Utbetald, Planerad
    covers_from: dt.date  # Monday of startvecka
    covers_to: dt.date  # Sunday of slutvecka
    grant_amount: Decimal = attrs.field(validator=_whole_ore)  # bidrag
    loan_amount: Decimal = attrs.field(validator=_whole_ore)  # lån

    __repr__ = _redacted


@attrs.frozen(repr=False)
class CsnRecord:
    """Student grants and loans paid in the period."""

    protected_identity: bool  # sekretess
    payments: tuple[StudentFinancePayment, ...] = ()

    __repr__ = _redacted

    @property
    def is_empty(self) -> bool:
        return not self.payments


# --- Försäkringskassan ----------------------------------------------------------------


@attrs.frozen(repr=False)
class BenefitPayment:
    """One payment of a benefit or allowance (Lefi ``LefiUtbetalningUppgift``)."""

    benefit_code: str  # formansfamilj id, e.g. BOB (bostadsbidrag)
    benefit_name: str  # formansfamilj beskrivning
    payment_date: dt.date  # datum
    covers_from: dt.date  # period.fran
    covers_to: dt.date  # period.till
    gross_amount: Decimal = attrs.field(validator=_whole_ore)  # bruttobelopp
    tax_amount: Decimal = attrs.field(validator=_whole_ore)  # skattebelopp
    net_amount: Decimal = attrs.field(validator=_whole_ore)  # nettobelopp

    __repr__ = _redacted


@attrs.frozen(repr=False)
class ForsakringskassanRecord:
    """Benefits and allowances paid in the period, with amounts and payment dates."""

    protected_identity: bool  # skyddad
    payments: tuple[BenefitPayment, ...] = ()

    __repr__ = _redacted

    @property
    def is_empty(self) -> bool:
        return not self.payments


# --- Migrationsverket -----------------------------------------------------------------


@attrs.frozen(repr=False)
class Permit:
    """A granted residence or work permit (Migrationsverket ``svar``)."""

    case_type: str  # arendeTyp, e.g. UAT
    case_type_name: str  # arendeTypNamn
    decision_code: str  # beslutsKod, e.g. BEV
    decision_code_name: str  # beslutsKodNamn
    kind: str  # beslutsTyp, e.g. PUT (permanent), TUT (temporary), AT (work permit)
    kind_name: str  # beslutsTypNamn
    validity: str  # giltighetstid: PERMANENT or TIDBEGRANSAT
    decided_on: dt.date  # beslutsdatum
    applied_on: dt.date | None = None  # ansokningsdatum
    valid_from: dt.date | None = None  # fromDatum
    valid_to: dt.date | None = None  # tomDatum; none for a permanent permit
    revoked_on: dt.date | None = None  # the date the permit was revoked, if it was

    __repr__ = _redacted


@attrs.frozen(repr=False)
class MigrationsverketRecord:
    """Permits in force, decided or revoked during the period."""

    protected_identity: bool
    home_country: str | None = None  # hemland
    entered_on: dt.date | None = None  # inresedatum
    permits: tuple[Permit, ...] = ()

    __repr__ = _redacted

    @property
    def is_empty(self) -> bool:
        return not self.permits and self.home_country is None and self.entered_on is None


# --- Pensionsmyndigheten --------------------------------------------------------------


@attrs.frozen(repr=False)
class PensionAmount:
    """A row of a pension payment: a benefit paid, or a deduction made (Lefi PM model)."""

    code: str  # formansgrupp kod (PM:AP) or avdragstyp kod (PM:PS)
    description: str  # beskrivning
    amount: Decimal = attrs.field(validator=_whole_ore)  # belopp

    __repr__ = _redacted


@attrs.frozen(repr=False)
class PensionPayment:
    """One payment of pensions and pension-related benefits (``LefiPmFormanUtbetalning``)."""

    payment_date: dt.date  # utbetalningsdatum
    covers_from: dt.date  # utbetalningsperiod.from
    covers_to: dt.date  # utbetalningsperiod.tom
    gross_amount: Decimal = attrs.field(validator=_whole_ore)  # bruttobelopp
    net_amount: Decimal = attrs.field(validator=_whole_ore)  # nettobelopp
    benefits: tuple[PensionAmount, ...] = ()  # utbetalningsrader
    deductions: tuple[PensionAmount, ...] = ()  # avdrag

    __repr__ = _redacted


@attrs.frozen(repr=False)
class PensionsmyndighetenRecord:
    """Pensions and pension-related benefits paid in the period."""

    protected_identity: bool  # skyddad
    payments: tuple[PensionPayment, ...] = ()

    __repr__ = _redacted

    @property
    def is_empty(self) -> bool:
        return not self.payments


# --- Skatteverket ---------------------------------------------------------------------


@attrs.frozen(repr=False)
class EarnedIncome:
    """Taxed earned income of one taxation year (Skatteverket ``Inkomstuppgift``)."""

    taxation_year: int  # Taxeringsar
    earned_income: Decimal = attrs.field(validator=_whole_ore)  # SammanraknadForvarvsinkomst
    business_income: Decimal = attrs.field(validator=_whole_ore)  # InkomstAvNaringsverksamhet
    final_tax: Decimal = attrs.field(validator=_whole_ore)  # SlutligSkatt

    __repr__ = _redacted


@attrs.frozen(repr=False)
class CapitalIncome:
    """Capital income of one taxation year (Skatteverket ``Kapitaluppgift``)."""

    taxation_year: int  # Taxeringsar
    total_capital_income: Decimal = attrs.field(validator=_whole_ore)  # SummaIntakterPaKapital
    capital_surplus: Decimal = attrs.field(validator=_whole_ore)  # OverskottPaKapital
    capital_deficit: Decimal = attrs.field(validator=_whole_ore)  # UnderskottPaKapital

    __repr__ = _redacted


@attrs.frozen(repr=False)
class SkatteverketRecord:
    """Taxed income and capital income of the taxation years assessed during the period."""

    protected_identity: bool  # Sekretessmarkering
    earned_income: tuple[EarnedIncome, ...] = ()
    capital_income: tuple[CapitalIncome, ...] = ()

    __repr__ = _redacted

    @property
    def is_empty(self) -> bool:
        return not self.earned_income and not self.capital_income


# --- Sveriges a-kassor ----------------------------------------------------------------


@attrs.frozen(repr=False)
class UnemploymentPayment:
    """One unemployment insurance payment (``Arbetsloshetsersattning/Utbetalningar``)."""

    fund: str  # SvarandeOrganisation, the paying unemployment fund
    payment_date: dt.date  # Utbetalningsdatum
    covers_from: dt.date  # AvserFrom
    covers_to: dt.date  # AvserTom
    compensation_days: Decimal  # Ersattningsdagar (xs:decimal: half days occur)
    net_after_tax: Decimal = attrs.field(validator=_whole_ore)  # NettoEfterSkatt
    net_after_deductions: Decimal = attrs.field(validator=_whole_ore)  # NettoEfterAvdrag

    __repr__ = _redacted


@attrs.frozen(repr=False)
class UnemploymentFundsRecord:
    """Unemployment insurance paid in the period, by any unemployment fund."""

    protected_identity: bool
    payments: tuple[UnemploymentPayment, ...] = ()

    __repr__ = _redacted

    @property
    def is_empty(self) -> bool:
        return not self.payments


# --- Transportstyrelsen ---------------------------------------------------------------


@attrs.frozen(repr=False)
class Vehicle:
    """A vehicle the subject owns (Transportstyrelsen ``fordon``)."""

    registration_number: str  # regnr
    make: str  # fabrikat
    model_year: int  # fordonsar
    vehicle_type: str  # fordonsslag, e.g. PERSONBIL, MOTORCYKEL
    trade_name: str  # handelsbeteckning

    __repr__ = _redacted


@attrs.frozen(repr=False)
class TransportstyrelsenRecord:
    """Vehicles the subject owns (the register answers with current holdings)."""

    protected_identity: bool
    vehicles: tuple[Vehicle, ...] = ()

    __repr__ = _redacted

    @property
    def is_empty(self) -> bool:
        return not self.vehicles


ProviderData: TypeAlias = (
    ArbetsformedlingenRecord
    | CsnRecord
    | ForsakringskassanRecord
    | MigrationsverketRecord
    | PensionsmyndighetenRecord
    | SkatteverketRecord
    | UnemploymentFundsRecord
    | TransportstyrelsenRecord
)
"""What any one provider says about one subject."""
