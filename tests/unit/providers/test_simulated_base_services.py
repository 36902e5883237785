"""The SIMULATED base services: deterministic, realistic data, and every fault mode."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
import tomllib
from collections import Counter
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from adapters.providers import simulated
from adapters.providers.simulated import (
    DEMO_LATENCY,
    NO_LATENCY,
    PROVIDERS_FLAGGING_PROTECTED_IDENTITY,
    SLA_LATENCY,
    FixedLatency,
    LogNormalLatency,
    SimulatedBaseService,
    SimulationProfile,
    build_simulated_base_services,
    garbled,
    read_payload,
    simulated_payload,
    simulated_record,
    simulates_data_for,
    simulates_protected_identity,
)
from application.ports import (
    BaseService,
    BaseServiceError,
    BaseServiceReportedError,
    BaseServiceUnreachableError,
    MalformedAnswerError,
)
from domain.identity import PersonalIdentityNumber
from domain.provider_data import (
    ArbetsformedlingenRecord,
    CsnRecord,
    ForsakringskassanRecord,
    MigrationsverketRecord,
    PensionsmyndighetenRecord,
    ProviderData,
    SkatteverketRecord,
    TransportstyrelsenRecord,
    UnemploymentFundsRecord,
)
from domain.providers import Provider
from domain.query.values import Period, provider_error_code
from tests import canaries

ROOT = Path(__file__).resolve().parents[3]
YEAR_2024 = Period.of(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
RECORD_TYPES: dict[Provider, type] = {
    Provider.ARBETSFORMEDLINGEN: ArbetsformedlingenRecord,
    Provider.CSN: CsnRecord,
    Provider.FORSAKRINGSKASSAN: ForsakringskassanRecord,
    Provider.MIGRATIONSVERKET: MigrationsverketRecord,
    Provider.PENSIONSMYNDIGHETEN: PensionsmyndighetenRecord,
    Provider.SKATTEVERKET: SkatteverketRecord,
    Provider.UNEMPLOYMENT_FUNDS: UnemploymentFundsRecord,
    Provider.TRANSPORTSTYRELSEN: TransportstyrelsenRecord,
}


def subjects(
    count: int, *, seed: int = 1, coordination: bool = False
) -> list[PersonalIdentityNumber]:
    rng = random.Random(seed)
    return [
        PersonalIdentityNumber.parse(canaries.personnummer(rng, coordination=coordination))
        for _ in range(count)
    ]


SUBJECTS = subjects(600)


def quiet(
    provider: Provider,
    *,
    error_rate: float = 0.0,
    hang_rate: float = 0.0,
    malformed_rate: float = 0.0,
    unreachable_rate: float = 0.0,
) -> SimulatedBaseService:
    """A simulated base service without latency, with the given fault rates."""
    profile = SimulationProfile(
        latency=NO_LATENCY,
        error_rate=error_rate,
        hang_rate=hang_rate,
        malformed_rate=malformed_rate,
        unreachable_rate=unreachable_rate,
    )
    return SimulatedBaseService(provider, profile)


def payments_of(record: ProviderData) -> tuple[Any, ...]:
    return tuple(getattr(record, "payments", ()))


# --- Deterministic, realistic data ----------------------------------------------------


@pytest.mark.parametrize("provider", list(Provider))
async def test_the_same_subject_and_period_always_get_the_same_record(provider: Provider) -> None:
    first, second = quiet(provider), quiet(provider)
    for subject in SUBJECTS[:40]:
        answer = await first.fetch(subject, YEAR_2024)
        again = await second.fetch(subject, YEAR_2024)
        assert answer.record == again.record == simulated_record(provider, subject, YEAR_2024)
        assert answer.provider is provider
        assert answer.subject == subject
        assert isinstance(answer.record, RECORD_TYPES[provider])


def test_the_data_does_not_depend_on_the_process_hash_seed() -> None:
    script = (
        "import json, sys, datetime as dt\n"
        "from domain.identity import PersonalIdentityNumber as P\n"
        "from domain.providers import Provider\n"
        "from domain.query.values import Period\n"
        "from adapters.providers.simulated import simulated_payload\n"
        "period = Period.of(dt.date(2024, 1, 1), dt.date(2024, 12, 31))\n"
        "subjects = [P.parse(s) for s in sys.argv[1:]]\n"
        "print(json.dumps([simulated_payload(p, s, period) for s in subjects for p in Provider]))\n"
    )
    numbers = [subject.digits for subject in SUBJECTS[:30]]
    outputs = set()
    for hash_seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", script, *numbers],
            capture_output=True,
            text=True,
            check=True,
            env=environment,
            cwd=ROOT,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize("provider", list(Provider))
def test_different_subjects_get_different_data(provider: Provider) -> None:
    records = [simulated_record(provider, subject, YEAR_2024) for subject in SUBJECTS]
    with_data = [record for record in records if not record.is_empty]
    assert len(with_data) >= 20
    assert len(set(with_data)) >= len(with_data) * 0.5  # CSN's rates are the same for all


@pytest.mark.parametrize("provider", list(Provider))
def test_the_payload_is_plain_json_with_the_providers_own_field_names(provider: Provider) -> None:
    expected = {
        Provider.ARBETSFORMEDLINGEN: ["Sekretessmarkering", "StatusSokandeinformationKod"],
        Provider.CSN: ["GemensamtSvarEkbistand", "ResultatKod", "sekretess", "utbetdatum"],
        Provider.FORSAKRINGSKASSAN: ["utlamnare", "skyddad", "formansfamilj", "nettobelopp"],
        Provider.MIGRATIONSVERKET: ["svarCollection", "beslutsTyp", "beslutsdatum"],
        Provider.PENSIONSMYNDIGHETEN: ["utbetalningsdatum", "utbetalningsrader", "avdrag"],
        Provider.SKATTEVERKET: ["Taxeringsar", "SummaIntakterPaKapital", "OverskottPaKapital"],
        Provider.UNEMPLOYMENT_FUNDS: ["Utbetalningsdatum", "NettoEfterSkatt", "AvserTom"],
        Provider.TRANSPORTSTYRELSEN: ["regnr", "fabrikat", "fordonsar", "handelsbeteckning"],
    }[provider]
    text = " ".join(json.dumps(simulated_payload(provider, s, YEAR_2024)) for s in SUBJECTS)
    for field in expected:
        assert f'"{field}"' in text


def test_a_vehicle_has_exactly_transportstyrelsens_fields() -> None:
    vehicles = [
        vehicle
        for subject in SUBJECTS
        for vehicle in simulated_payload(Provider.TRANSPORTSTYRELSEN, subject, YEAR_2024)[
            "fordonsinnehav"
        ]["fordon"]
    ]
    assert vehicles
    for vehicle in vehicles:
        assert set(vehicle) == {
            "regnr",
            "fabrikat",
            "fordonsar",
            "fordonsslag",
            "handelsbeteckning",
        }


# --- Restricted to the period ---------------------------------------------------------


def check_inside(record: ProviderData, period: Period) -> None:
    """Everything in ``record`` belongs to ``period`` under the simulation's rules."""
    for payment in payments_of(record):
        assert period.start <= payment.payment_date <= period.end
    if isinstance(record, ArbetsformedlingenRecord):
        for decision in record.support_decisions:
            assert decision.valid_from <= period.end
            assert decision.valid_to >= period.start
        if record.registered_on is not None:
            assert record.registered_on <= period.end
    if isinstance(record, MigrationsverketRecord):
        for permit in record.permits:
            end = permit.revoked_on or permit.valid_to
            assert permit.decided_on <= period.end
            assert end is None or end >= period.start
    if isinstance(record, SkatteverketRecord):
        years = [y.taxation_year for y in record.earned_income]
        years += [y.taxation_year for y in record.capital_income]
        for year in years:
            assert period.start.year - 1 <= year <= period.end.year


@pytest.mark.parametrize(
    "period",
    [
        YEAR_2024,
        Period.of(dt.date(2023, 3, 10), dt.date(2023, 4, 2)),
        Period.of(dt.date(2025, 8, 1), dt.date(2025, 8, 1)),
    ],
)
def test_everything_a_provider_returns_belongs_to_the_requested_period(period: Period) -> None:
    for subject in SUBJECTS[:300]:
        for provider in Provider:
            check_inside(simulated_record(provider, subject, period), period)


@pytest.mark.parametrize(
    "provider",
    [
        Provider.CSN,
        Provider.FORSAKRINGSKASSAN,
        Provider.PENSIONSMYNDIGHETEN,
        Provider.UNEMPLOYMENT_FUNDS,
    ],
)
def test_a_shorter_period_sees_exactly_the_payments_of_a_longer_one_in_it(
    provider: Provider,
) -> None:
    spring = Period.of(dt.date(2024, 2, 10), dt.date(2024, 5, 20))
    seen = 0
    for subject in SUBJECTS:
        whole = payments_of(simulated_record(provider, subject, YEAR_2024))
        part = payments_of(simulated_record(provider, subject, spring))
        inside = tuple(p for p in whole if spring.start <= p.payment_date <= spring.end)
        assert part == inside
        seen += len(part)
    assert seen > 0


def test_taxation_years_are_those_decided_by_the_end_of_the_period() -> None:
    known = next(s for s in SUBJECTS if simulates_data_for(s, Provider.SKATTEVERKET))
    spring = simulated_record(
        Provider.SKATTEVERKET, known, Period.of(dt.date(2024, 3, 1), dt.date(2024, 5, 31))
    )
    autumn = simulated_record(
        Provider.SKATTEVERKET, known, Period.of(dt.date(2024, 3, 1), dt.date(2024, 9, 30))
    )
    assert isinstance(spring, SkatteverketRecord)
    assert isinstance(autumn, SkatteverketRecord)
    assert [year.taxation_year for year in spring.earned_income] == [2023]
    assert [year.taxation_year for year in autumn.earned_income] == [2023, 2024]


# --- Protected and empty subjects -----------------------------------------------------


def test_about_one_subject_in_twenty_has_a_protected_identity() -> None:
    many = subjects(4000, seed=7)
    share = sum(simulates_protected_identity(subject) for subject in many) / len(many)
    assert 0.035 <= share <= 0.065


def test_subject_flagged_protected_is_reported_by_every_provider_that_knows_it() -> None:
    protected = [s for s in SUBJECTS if simulates_protected_identity(s)]
    assert len(protected) >= 10
    for subject in protected:
        for provider in Provider:
            record = simulated_record(provider, subject, YEAR_2024)
            assert record.protected_identity is (provider in PROVIDERS_FLAGGING_PROTECTED_IDENTITY)


def test_no_provider_flags_a_subject_the_simulation_does_not_protect() -> None:
    for subject in SUBJECTS[:200]:
        if not simulates_protected_identity(subject):
            for provider in Provider:
                assert not simulated_record(provider, subject, YEAR_2024).protected_identity


@pytest.mark.parametrize("provider", list(Provider))
def test_a_provider_that_does_not_hold_the_subject_answers_with_an_empty_record(
    provider: Provider,
) -> None:
    unknown = [s for s in SUBJECTS if not simulates_data_for(s, provider)]
    assert len(unknown) >= 20
    for subject in unknown:
        assert simulated_record(provider, subject, YEAR_2024).is_empty


@pytest.mark.parametrize("provider", list(Provider))
def test_a_provider_that_holds_the_subject_mostly_has_data_for_a_year(provider: Provider) -> None:
    population = SUBJECTS + subjects(200, seed=5, coordination=True)
    known = [s for s in population if simulates_data_for(s, provider)]
    assert len(known) >= 10
    with_data = [s for s in known if not simulated_record(provider, s, YEAR_2024).is_empty]
    assert len(with_data) >= len(known) * 0.5


def test_migrationsverket_holds_data_mainly_for_samordningsnummer_holders() -> None:
    def share(people: list[PersonalIdentityNumber]) -> float:
        records = [simulated_record(Provider.MIGRATIONSVERKET, s, YEAR_2024) for s in people]
        return sum(not record.is_empty for record in records) / len(records)

    assert share(subjects(300, seed=3, coordination=True)) > 0.4
    assert share(subjects(300, seed=3)) < 0.1


def test_af_and_the_unemployment_funds_name_the_same_fund() -> None:
    compared = 0
    for subject in SUBJECTS:
        af = simulated_record(Provider.ARBETSFORMEDLINGEN, subject, YEAR_2024)
        funds = simulated_record(Provider.UNEMPLOYMENT_FUNDS, subject, YEAR_2024)
        assert isinstance(af, ArbetsformedlingenRecord)
        assert isinstance(funds, UnemploymentFundsRecord)
        if af.unemployment_fund and funds.payments:
            assert {payment.fund for payment in funds.payments} == {af.unemployment_fund}
            compared += 1
    assert compared > 0


def test_records_never_show_personal_data_in_their_repr() -> None:
    for subject in SUBJECTS[:50]:
        for provider in Provider:
            record = simulated_record(provider, subject, YEAR_2024)
            shown = repr(record) + str(record) + repr(payments_of(record))
            assert "redacted" in shown
            assert subject.digits[2:] not in shown
            assert "Decimal" not in shown
            assert "datetime" not in shown


# --- The adapter step -----------------------------------------------------------------


@pytest.mark.parametrize("provider", list(Provider))
def test_every_way_of_garbling_an_answer_is_refused_as_malformed(provider: Provider) -> None:
    with_data = next(s for s in SUBJECTS if not simulated_record(provider, s, YEAR_2024).is_empty)
    without = next(s for s in SUBJECTS if simulated_record(provider, s, YEAR_2024).is_empty)
    for subject in (with_data, without):
        payload = simulated_payload(provider, subject, YEAR_2024)
        for seed in range(30):
            spoilt = garbled(provider, payload, random.Random(seed))
            with pytest.raises(MalformedAnswerError) as refused:
                read_payload(provider, spoilt, subject)
            assert refused.value.__context__ is None
            assert refused.value.__cause__ is None


@pytest.mark.parametrize("provider", [p for p in Provider if p is not Provider.TRANSPORTSTYRELSEN])
def test_an_answer_about_another_subject_is_refused_as_malformed(provider: Provider) -> None:
    other = next(s for s in SUBJECTS if simulates_data_for(s, provider))
    asked = next(s for s in SUBJECTS if s != other)
    with pytest.raises(MalformedAnswerError, match="another subject"):
        read_payload(provider, simulated_payload(provider, other, YEAR_2024), asked)


def test_an_amount_in_fractions_of_ore_is_refused_as_malformed() -> None:
    subject = next(
        s
        for s in SUBJECTS
        if simulated_record(Provider.UNEMPLOYMENT_FUNDS, s, YEAR_2024).is_empty is False
    )
    payload = simulated_payload(Provider.UNEMPLOYMENT_FUNDS, subject, YEAR_2024)
    fund = payload["ArbetsloshetsersattningLista"]["Arbetsloshetsersattning"][0]
    fund["Utbetalningar"][0]["NettoEfterSkatt"] = "1250.505"
    with pytest.raises(MalformedAnswerError, match="refuses"):
        read_payload(Provider.UNEMPLOYMENT_FUNDS, payload, subject)


@pytest.mark.parametrize("summa", [1e30, 10**40, float("inf"), 12.345, True, "12,50", None])
def test_an_amount_lefi_cannot_mean_is_refused_as_malformed(summa: object) -> None:
    subject = next(
        s
        for s in SUBJECTS
        if not simulated_record(Provider.FORSAKRINGSKASSAN, s, YEAR_2024).is_empty
    )
    payload = simulated_payload(Provider.FORSAKRINGSKASSAN, subject, YEAR_2024)
    payload["formansinformation"]["utbetalningsuppgift"][0]["nettobelopp"]["summa"] = summa
    unspoilt = simulated_payload(Provider.FORSAKRINGSKASSAN, subject, YEAR_2024)
    read_payload(Provider.FORSAKRINGSKASSAN, unspoilt, subject)  # reads without complaint
    with pytest.raises(MalformedAnswerError):
        read_payload(Provider.FORSAKRINGSKASSAN, payload, subject)


def test_an_xml_boolean_false_is_read_as_false_not_as_a_non_empty_string() -> None:
    subject = next(s for s in SUBJECTS if not simulates_protected_identity(s))
    payload = simulated_payload(Provider.ARBETSFORMEDLINGEN, subject, YEAR_2024)
    assert payload["Sekretessmarkering"] == "false"
    assert not read_payload(Provider.ARBETSFORMEDLINGEN, payload, subject).protected_identity


# --- Faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("provider", list(Provider))
async def test_error_rate_one_makes_every_call_a_failure_the_provider_reports(
    provider: Provider,
) -> None:
    service = quiet(provider, error_rate=1.0)
    for subject in SUBJECTS[:10]:
        with pytest.raises(BaseServiceReportedError) as failed:
            await service.fetch(subject, YEAR_2024)
        assert provider_error_code(failed.value.code) == failed.value.code  # code-shaped
        assert failed.value.message
        assert subject.digits[2:] not in failed.value.message


@pytest.mark.parametrize("provider", list(Provider))
async def test_unreachable_rate_one_makes_every_call_unreachable(provider: Provider) -> None:
    service = quiet(provider, unreachable_rate=1.0)
    with pytest.raises(BaseServiceUnreachableError):
        await service.fetch(SUBJECTS[0], YEAR_2024)


@pytest.mark.parametrize("provider", list(Provider))
async def test_malformed_rate_one_gives_malformed_answers_that_quote_no_personal_data(
    provider: Provider,
) -> None:
    service = quiet(provider, malformed_rate=1.0)
    for subject in SUBJECTS[:20]:
        payload = simulated_payload(provider, subject, YEAR_2024)
        with pytest.raises(MalformedAnswerError) as refused:
            await service.fetch(subject, YEAR_2024)
        message = str(refused.value)
        assert subject.digits[2:] not in message
        assert refused.value.__context__ is None
        assert refused.value.__cause__ is None
        for value in json.dumps(payload).split('"'):
            if len(value) >= 6 and any(ch.isdigit() for ch in value):
                assert value not in message


@pytest.mark.parametrize("provider", list(Provider))
async def test_hang_rate_one_never_answers_and_is_cancelled_by_a_timeout(
    provider: Provider,
) -> None:
    service = quiet(provider, hang_rate=1.0)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await service.fetch(SUBJECTS[0], YEAR_2024)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await service.check()
    assert time.monotonic() - started < 2


async def outcomes(service: SimulatedBaseService, calls: int) -> list[str]:
    seen = []
    for subject in SUBJECTS[:calls]:
        try:
            await service.fetch(subject, YEAR_2024)
        except BaseServiceError as error:
            seen.append(type(error).__name__)
        else:
            seen.append("answered")
    return seen


async def test_the_same_seed_gives_the_same_faults_in_the_same_order() -> None:
    def service(seed: int) -> SimulatedBaseService:
        profile = SimulationProfile(
            latency=NO_LATENCY,
            seed=seed,
            error_rate=0.2,
            malformed_rate=0.2,
            unreachable_rate=0.2,
        )
        return SimulatedBaseService(Provider.CSN, profile)

    first = await outcomes(service(11), 60)
    again = await outcomes(service(11), 60)
    other = await outcomes(service(12), 60)
    assert first == again
    assert first != other
    assert set(first) == {
        "answered",
        "BaseServiceReportedError",
        "MalformedAnswerError",
        "BaseServiceUnreachableError",
    }


async def test_fault_rates_are_honoured_over_many_calls() -> None:
    service = quiet(Provider.FORSAKRINGSKASSAN, error_rate=0.2, unreachable_rate=0.1)
    counts = Counter(await outcomes(service, 600))
    assert 0.14 <= counts["BaseServiceReportedError"] / 600 <= 0.26
    assert 0.05 <= counts["BaseServiceUnreachableError"] / 600 <= 0.15


async def test_without_faults_every_call_answers() -> None:
    for provider in Provider:
        assert set(await outcomes(quiet(provider), 30)) == {"answered"}


# --- Latency --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latency", "median", "p99"), [(DEMO_LATENCY, 0.05, 0.3), (SLA_LATENCY, 0.5, 5.0)]
)
def test_log_normal_latency_has_the_given_median_and_99th_percentile(
    latency: LogNormalLatency, median: float, p99: float
) -> None:
    source = random.Random(4)
    samples = sorted(latency.sample(source) for _ in range(20_000))
    assert median * 0.93 <= samples[10_000] <= median * 1.07
    assert p99 * 0.85 <= samples[19_800] <= p99 * 1.15


async def test_fixed_latency_delays_every_answer() -> None:
    service = SimulatedBaseService(
        Provider.SKATTEVERKET, SimulationProfile(latency=FixedLatency(0.05))
    )
    started = time.monotonic()
    await service.fetch(SUBJECTS[0], YEAR_2024)
    assert time.monotonic() - started >= 0.045


# --- The test call --------------------------------------------------------------------


@pytest.mark.parametrize("provider", list(Provider))
async def test_check_reaches_the_service_without_personal_data(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_personal_data(*_: object) -> None:
        raise AssertionError("the test call must not build an answer about anyone")

    monkeypatch.setattr("adapters.providers.simulated.service.simulated_payload", no_personal_data)
    health = await quiet(provider).check()
    assert health.provider is provider
    assert health.reachable
    assert health.latency_ms >= 0
    with pytest.raises(AssertionError, match="must not build"):
        await quiet(provider).fetch(SUBJECTS[0], YEAR_2024)


async def test_check_says_an_unreachable_service_was_not_reached() -> None:
    health = await quiet(Provider.TRANSPORTSTYRELSEN, unreachable_rate=1.0).check()
    assert not health.reachable
    assert "not be reached" in health.detail


# --- Options --------------------------------------------------------------------------


def test_without_options_all_eight_providers_are_simulated_with_demo_latency() -> None:
    services = build_simulated_base_services({})
    assert set(services) == set(Provider)
    for provider, service in services.items():
        assert service.provider is provider
        assert isinstance(service, SimulatedBaseService)
        assert service.profile == SimulationProfile(latency=DEMO_LATENCY)


def test_options_configure_latency_seed_and_fault_rates() -> None:
    services = build_simulated_base_services(
        {
            "latency": "sla",
            "seed": "42",
            "error_rate": "0.1",
            "hang_rate": "0.05",
            "malformed_rate": "0.02",
            "unreachable_rate": "0.03",
        }
    )
    service = services[Provider.CSN]
    assert isinstance(service, SimulatedBaseService)
    assert service.profile == SimulationProfile(
        latency=SLA_LATENCY,
        seed=42,
        error_rate=0.1,
        hang_rate=0.05,
        malformed_rate=0.02,
        unreachable_rate=0.03,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("none", NO_LATENCY),
        ("demo", DEMO_LATENCY),
        ("SLA", SLA_LATENCY),
        ("fixed:0.25", FixedLatency(0.25)),
        ("lognormal:0.1:2", LogNormalLatency(0.1, 2.0)),
    ],
)
def test_latency_option_forms(text: str, expected: object) -> None:
    service = build_simulated_base_services({"latency": text})[Provider.CSN]
    assert isinstance(service, SimulatedBaseService)
    assert service.profile.latency == expected


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"latncy": "demo"}, "latncy"),
        ({"latency": "fast"}, "latency"),
        ({"latency": "fixed:-1"}, "latency"),
        ({"latency": "fixed:soon"}, "latency"),
        ({"latency": "lognormal:2:1"}, "latency"),
        ({"seed": "x"}, "seed"),
        ({"error_rate": "1.5"}, "error_rate"),
        ({"hang_rate": "nan"}, "hang_rate"),
        ({"malformed_rate": "often"}, "malformed_rate"),
        ({"unreachable_rate": "-0.1"}, "unreachable_rate"),
        ({"error_rate": "0.6", "hang_rate": "0.6"}, "add up"),
    ],
)
def test_unknown_options_and_bad_values_are_refused_with_a_clear_message(
    options: dict[str, str], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        build_simulated_base_services(options)


def test_the_simulated_entry_point_in_pyproject_names_the_factory() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    module, _, name = project["project"]["entry-points"]["ssbtek.providers"]["simulated"].partition(
        ":"
    )
    assert getattr(import_module(module), name) is build_simulated_base_services
    assert simulated.build_simulated_base_services is build_simulated_base_services


def test_a_simulated_base_service_satisfies_the_port() -> None:
    service: BaseService = SimulatedBaseService(Provider.CSN)
    assert service.provider is Provider.CSN


# --- Any valid subject ----------------------------------------------------------------


@st.composite
def valid_subjects(draw: st.DrawFn) -> PersonalIdentityNumber:
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)))
    day = born.day + (60 if draw(st.booleans()) else 0)
    body = f"{born.year % 100:02d}{born.month:02d}{day:02d}{draw(st.integers(0, 999)):03d}"
    return PersonalIdentityNumber.parse(f"{born.year // 100}{body}{luhn.calc_check_digit(body)}")


@st.composite
def periods(draw: st.DrawFn) -> Period:
    start = draw(st.dates(min_value=dt.date(2010, 1, 1), max_value=dt.date(2030, 12, 31)))
    return Period.of(start, start + dt.timedelta(days=draw(st.integers(0, 731))))


@settings(max_examples=60, deadline=None)
@given(subject=valid_subjects(), period=periods())
def test_any_valid_subject_gets_a_well_formed_record_from_every_provider(
    subject: PersonalIdentityNumber, period: Period
) -> None:
    for provider in Provider:
        record = simulated_record(provider, subject, period)
        assert type(record) is RECORD_TYPES[provider]
        assert isinstance(record.is_empty, bool)
        assert record.protected_identity is (
            simulates_protected_identity(subject)
            and provider in PROVIDERS_FLAGGING_PROTECTED_IDENTITY
        )
        if not simulates_data_for(subject, provider):
            assert record.is_empty
        check_inside(record, period)
        for payment in payments_of(record):
            for name in ("net_amount", "gross_amount", "net_after_tax", "grant_amount"):
                amount = getattr(payment, name, Decimal(0))
                assert amount == amount.quantize(Decimal("0.01"))


async def test_one_provider_can_be_given_its_own_faults_over_the_shared_options() -> None:
    services = build_simulated_base_services({"latency": "none", "MIGRATIONSVERKET.hang_rate": "1"})
    subject = PersonalIdentityNumber.parse("19121212-1212")
    period = Period.of(dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    await services[Provider.CSN].fetch(subject, period)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await services[Provider.MIGRATIONSVERKET].fetch(subject, period)
    with pytest.raises(ValueError, match="names no provider"):
        build_simulated_base_services({"NOBODY.hang_rate": "1"})
