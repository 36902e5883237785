"""The aggregation saga with fake base services on the in-memory store."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import random
import uuid
import weakref
from collections.abc import Iterator

import pytest

from adapters.persistence.transcodings import query_transcodings
from application.commands import PeriodCommand, ProviderSelectionCommand, QueryCommand
from application.errors import (
    AuditUnavailableError,
    DuplicateQueryError,
    InvalidRequestError,
    PermissionDeniedError,
    QueryInProgressError,
)
from application.ports import AccessDecision
from application.queries import Queries, SagaSettings
from domain.providers import STOCKHOLM, Provider
from domain.query.aggregate import Query, QueryStatus
from domain.query.answer import CompiledAnswer, ProviderPart
from domain.query.values import (
    ErrorSource,
    LegalBasis,
    OutcomeKind,
    Period,
    ProviderSelection,
    Purpose,
)
from tests import canaries
from tests.fakes import (
    FakeAccessPolicy,
    FakeBaseService,
    FakeClock,
    FakePseudonymiser,
    FakeRecord,
    fake_base_services,
)

WEDNESDAY_NOON = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)
SATURDAY_NOON = dt.datetime(2026, 11, 28, 12, 0, tzinfo=STOCKHOLM)
SUBJECTS = tuple(
    ["19121212-1212"]
    + [canaries.personnummer(random.Random(n), coordination=n == 9) for n in range(1, 10)]
)
FAST = SagaSettings(budget_fraction=0.05)  # 0.35 s for one subject, 1.03 s for ten


def command(subjects: tuple[str, ...] = SUBJECTS[:1], **changes: object) -> QueryCommand:
    fields: dict[str, object] = {
        "client_request_id": "",
        "organisation_number": "212000-0142",
        "organisation_name": "Testkommun",
        "caseworker_id": "HL000001",
        "case_id": "EKB-2026-0001",
        "purpose": "FINANCIAL_ASSISTANCE_CASE",
        "legal_basis": "SOL_11_KAP_11",
        "period": PeriodCommand((2026, 5, 1), (2026, 10, 31)),
        "subjects": subjects,
    }
    fields.update(changes)
    return QueryCommand(**fields)  # type: ignore[arg-type]


def build(
    base_services: dict[Provider, FakeBaseService],
    *,
    now: dt.datetime = WEDNESDAY_NOON,
    settings: SagaSettings = FAST,
    access_policy: FakeAccessPolicy | None = None,
) -> Queries:
    return Queries(
        access_policy=access_policy,
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        base_services=base_services,
        clock=FakeClock(now),
        pseudonymiser=FakePseudonymiser(),
        transcodings=query_transcodings(),
        settings=settings,
    )


@pytest.fixture
def services() -> dict[Provider, FakeBaseService]:
    return fake_base_services()


@pytest.fixture
def queries(services: dict[Provider, FakeBaseService]) -> Iterator[Queries]:
    app = build(services)
    yield app
    app.close()


def stored_events(queries: Queries) -> list[object]:
    return [
        queries.mapper.to_domain_event(item)
        for item in queries.recorder.select_notifications(1, 10_000)
    ]


def part(answer: CompiledAnswer, provider: Provider, subject_index: int = 0) -> ProviderPart:
    (found,) = [p for p in answer.parts_for(subject_index) if p.provider is provider]
    return found


async def test_every_included_provider_answers_for_the_one_subject(queries: Queries) -> None:
    answer = await queries.submit(command())
    assert [p.provider for p in answer.parts] == list(Provider)
    assert {p.kind for p in answer.parts} == {OutcomeKind.ANSWERED}
    assert all(isinstance(p.record, FakeRecord) for p in answer.parts)


async def test_ten_subjects_are_asked_in_parallel_and_all_answered_by_the_deadline(
    services: dict[Provider, FakeBaseService],
) -> None:
    for service in services.values():
        service.delay_s = 0.2
    queries = build(services)
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await queries.submit(command(SUBJECTS))
    elapsed = loop.time() - started
    assert len(answer.parts) == 80
    assert {p.kind for p in answer.parts} == {OutcomeKind.ANSWERED}
    # 80 calls of 0.2 s each finish together: sequential calls would take 16 s.
    assert elapsed < FAST.budget_s(10, None)


async def test_a_provider_that_hangs_is_reported_as_a_time_out_and_the_others_still_answer(
    services: dict[Provider, FakeBaseService],
) -> None:
    services[Provider.CSN].mode = "hang"
    queries = build(services)
    answer = await queries.submit(command())
    csn = part(answer, Provider.CSN)
    assert csn.kind is OutcomeKind.ERROR
    assert csn.error is not None
    assert (csn.error.source, csn.error.code) == (ErrorSource.SSBT, "TIMEOUT")
    others = [p for p in answer.parts if p.provider is not Provider.CSN]
    assert {p.kind for p in others} == {OutcomeKind.ANSWERED}
    assert services[Provider.CSN].cancelled == 1


async def test_the_answer_arrives_by_the_deadline_even_when_every_provider_hangs(
    services: dict[Provider, FakeBaseService],
) -> None:
    for service in services.values():
        service.mode = "hang"
    queries = build(services)
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await queries.submit(command(SUBJECTS[:3]))
    assert loop.time() - started < FAST.budget_s(3, None) + 0.5
    assert {p.error.code for p in answer.parts if p.error} == {"TIMEOUT"}
    assert sum(s.cancelled for s in services.values()) == 24


async def test_a_base_service_failure_is_reported_with_source_bt_and_its_own_code(
    services: dict[Provider, FakeBaseService],
) -> None:
    services[Provider.SKATTEVERKET].mode = "fail"
    answer = await build(services).submit(command())
    skv = part(answer, Provider.SKATTEVERKET)
    assert skv.error is not None
    assert (skv.error.source, skv.error.code) == (ErrorSource.BT, "1001")
    assert skv.error.message == "Tekniskt fel hos bastjänsten"


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("malformed", "MALFORMED_ANSWER"),
        ("unreachable", "UNREACHABLE"),
        ("wrong-subject", "ANSWER_MISMATCH"),
        ("wrong-provider", "ANSWER_MISMATCH"),
        ("crash", "INTERNAL"),
    ],
)
async def test_an_unusable_answer_is_an_ssbt_error_never_passed_on(
    services: dict[Provider, FakeBaseService], mode: str, code: str
) -> None:
    services[Provider.MIGRATIONSVERKET].mode = mode
    answer = await build(services).submit(command())
    miv = part(answer, Provider.MIGRATIONSVERKET)
    assert miv.kind is OutcomeKind.ERROR
    assert miv.record is None
    assert miv.error is not None
    assert (miv.error.source, miv.error.code) == (ErrorSource.SSBT, code)


async def test_transportstyrelsen_outside_its_hours_is_closed_not_failed_and_not_called(
    services: dict[Provider, FakeBaseService],
) -> None:
    answer = await build(services, now=SATURDAY_NOON).submit(command())
    tns = part(answer, Provider.TRANSPORTSTYRELSEN)
    assert tns.kind is OutcomeKind.CLOSED
    assert tns.error is None
    assert services[Provider.TRANSPORTSTYRELSEN].calls == []
    assert part(answer, Provider.CSN).kind is OutcomeKind.ANSWERED


async def test_a_protected_identity_gets_one_notice_naming_the_providers_that_flag_it(
    services: dict[Provider, FakeBaseService],
) -> None:
    flagged = SUBJECTS[1]

    def protected_if_flagged(subject: object, period: object) -> FakeRecord:
        return FakeRecord(protected_identity=getattr(subject, "digits", "") == flagged)

    for provider in (Provider.CSN, Provider.ARBETSFORMEDLINGEN):
        services[provider] = FakeBaseService(provider, record=protected_if_flagged)
    answer = await build(services).submit(command(SUBJECTS[:3]))
    (notice,) = answer.notices
    assert notice.subject_index == 1
    assert notice.subject.digits == flagged
    assert set(notice.flagged_by) == {Provider.CSN, Provider.ARBETSFORMEDLINGEN}


async def test_a_provider_with_nothing_on_the_subject_answers_no_data(
    services: dict[Provider, FakeBaseService],
) -> None:
    services[Provider.CSN] = FakeBaseService(
        Provider.CSN, record=lambda s, p: FakeRecord(is_empty=True)
    )
    answer = await build(services).submit(command())
    assert part(answer, Provider.CSN).kind is OutcomeKind.NO_DATA


async def test_provider_data_is_passed_on_unaltered(
    services: dict[Provider, FakeBaseService],
) -> None:
    delivered = FakeRecord(payload="Utbetalning 2026-06-25 1250.50")
    services[Provider.UNEMPLOYMENT_FUNDS] = FakeBaseService(
        Provider.UNEMPLOYMENT_FUNDS, record=lambda s, p: delivered
    )
    answer = await build(services).submit(command())
    assert part(answer, Provider.UNEMPLOYMENT_FUNDS).record is delivered


async def test_only_the_included_providers_are_asked_each_with_its_own_period(
    services: dict[Provider, FakeBaseService],
) -> None:
    chosen = (
        ProviderSelectionCommand("CSN", PeriodCommand((2026, 1, 1), (2026, 1, 31))),
        ProviderSelectionCommand("SKATTEVERKET"),
    )
    answer = await build(services).submit(command(providers=chosen))
    assert [p.provider for p in answer.parts] == [Provider.CSN, Provider.SKATTEVERKET]
    ((_, csn_period),) = services[Provider.CSN].calls
    ((_, skv_period),) = services[Provider.SKATTEVERKET].calls
    assert (csn_period.start, csn_period.end) == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert skv_period.end == dt.date(2026, 10, 31)
    assert services[Provider.FORSAKRINGSKASSAN].calls == []


async def test_the_query_is_stored_as_received_then_answered_in_non_personal_events(
    queries: Queries,
) -> None:
    answer = await queries.submit(command(SUBJECTS[:2]))
    events = stored_events(queries)
    assert [type(e).__name__ for e in events] == [
        "Received",
        "Compiled",
        "Delivered",
        "CaseDataErased",
    ]
    assert {e.originator_id for e in events} == {answer.query_id}  # type: ignore[attr-defined]
    received = events[0]
    assert isinstance(received, Query.Received)
    assert received.subject_count == 2
    assert received.caseworker_pseudonym != "HL000001"
    assert len(received.caseworker_pseudonym) == 32


async def test_the_caller_deadline_shortens_the_budget(
    services: dict[Provider, FakeBaseService],
) -> None:
    services[Provider.CSN].mode = "hang"
    queries = build(services, settings=SagaSettings())  # 5.6 s budget without a caller deadline
    loop = asyncio.get_running_loop()
    started = loop.time()
    await queries.submit(command(), time_remaining_s=0.5)
    assert loop.time() - started < 1.0


async def test_an_invalid_query_is_refused_asks_no_provider_and_is_recorded_as_rejected(
    queries: Queries, services: dict[Provider, FakeBaseService]
) -> None:
    with pytest.raises(InvalidRequestError):
        await queries.submit(command(("19121212-1213",), case_id=""))
    assert all(s.calls == [] for s in services.values())
    (rejected,) = stored_events(queries)
    assert isinstance(rejected, Query.Rejected)
    assert rejected.fields == ["case_id", "subjects[0]"]
    assert rejected.asking_organisation == "2120000142"


async def test_a_retry_with_the_same_client_request_id_is_refused_without_a_second_query(
    queries: Queries, services: dict[Provider, FakeBaseService]
) -> None:
    first = await queries.submit(command(client_request_id="retry-1"))
    with pytest.raises(DuplicateQueryError):
        await queries.submit(command(client_request_id="retry-1"))
    events = stored_events(queries)
    assert [type(e).__name__ for e in events].count("Received") == 1
    assert isinstance(events[-1], Query.Rejected)
    assert events[0].originator_id == first.query_id  # type: ignore[attr-defined]
    assert len(services[Provider.CSN].calls) == 1


async def test_a_concurrent_duplicate_is_refused_while_the_first_is_in_flight(
    services: dict[Provider, FakeBaseService],
) -> None:
    """The second call is told to come back once the first has surely ended (ADR 6)."""
    for service in services.values():
        service.delay_s = 0.1
    queries = build(services)
    results = await asyncio.gather(
        queries.submit(command(client_request_id="same")),
        queries.submit(command(client_request_id="same")),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == [
        "CompiledAnswer",
        "QueryInProgressError",
    ]
    refusal = next(r for r in results if isinstance(r, QueryInProgressError))
    assert 0 < refusal.retry_after_s <= 8.0  # the first call's service level, and a second
    assert len(services[Provider.CSN].calls) == 1


async def test_no_answer_is_released_when_the_audit_cannot_be_saved(
    queries: Queries, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_save(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(queries, "save", broken_save)
    with pytest.raises(AuditUnavailableError):
        await queries.submit(command())


async def test_streaming_yields_each_part_as_it_arrives_then_the_compiled_answer(
    services: dict[Provider, FakeBaseService],
) -> None:
    services[Provider.CSN].delay_s = 0.2
    items = [item async for item in build(services).stream(command())]
    assert all(isinstance(i, ProviderPart) for i in items[:-1])
    assert isinstance(items[-1], CompiledAnswer)
    assert items[-2].provider is Provider.CSN  # type: ignore[union-attr]  # the slow one comes last


async def test_after_the_answer_is_dropped_the_service_holds_no_personal_data(
    queries: Queries, services: dict[Provider, FakeBaseService]
) -> None:
    records: list[weakref.ref[FakeRecord]] = []

    def tracked(subject: object, period: object) -> FakeRecord:
        record = FakeRecord(payload="secret")
        records.append(weakref.ref(record))
        return record

    for provider in Provider:
        services[provider] = FakeBaseService(provider, record=tracked)
    queries = build(services)
    answer = await queries.submit(command(SUBJECTS[:2]))
    subjects = [weakref.ref(s) for s in answer.subjects]
    answer_ref = weakref.ref(answer)
    for service in services.values():
        service.calls.clear()  # the fakes' own call log is test instrumentation
    del answer
    gc.collect()
    assert answer_ref() is None
    assert [r() for r in subjects] == [None, None]
    assert len(records) == 16
    assert all(r() is None for r in records)


async def test_check_providers_reaches_each_base_service_and_says_when_one_is_down(
    services: dict[Provider, FakeBaseService],
) -> None:
    services[Provider.CSN].mode = "unreachable"
    statuses = await build(services, now=SATURDAY_NOON).check_providers()
    by_provider = {s.health.provider: s for s in statuses}
    assert not by_provider[Provider.CSN].health.reachable
    assert by_provider[Provider.SKATTEVERKET].health.reachable
    assert not by_provider[Provider.TRANSPORTSTYRELSEN].open_now


async def test_describe_providers_lists_all_eight_with_their_legal_basis(queries: Queries) -> None:
    described = queries.describe_providers()
    assert [d.profile.provider for d in described] == list(Provider)
    assert all(d.profile.legal_basis for d in described)


@pytest.mark.parametrize(
    "refusal",
    [
        "ORGANISATION_NOT_CONNECTED",
        "CASEWORKER_UNKNOWN",
        "CASEWORKER_WITHOUT_ASSURANCE",
        "CASEWORKER_REVOKED",
    ],
)
async def test_a_query_from_outside_the_agreement_is_refused_asks_no_one_and_is_recorded(
    services: dict[Provider, FakeBaseService], refusal: str
) -> None:
    """004 § 9.2.8-9.2.9, § 12.4.5: only connected municipalities, only signed caseworkers."""
    queries = build(services, access_policy=FakeAccessPolicy(refusal))
    with pytest.raises(PermissionDeniedError) as refused:
        await queries.submit(command())
    assert refused.value.reason == refusal
    assert all(s.calls == [] for s in services.values())
    (rejected,) = stored_events(queries)
    assert isinstance(rejected, Query.Rejected)
    assert rejected.reason.value == refusal
    assert rejected.asking_organisation == "2120000142"


async def test_the_access_policy_sees_the_same_caseworker_pseudonym_the_audit_stores(
    services: dict[Provider, FakeBaseService],
) -> None:
    policy = FakeAccessPolicy()
    queries = build(services, access_policy=policy)
    await queries.submit(command())
    received = stored_events(queries)[0]
    assert isinstance(received, Query.Received)
    assert policy.asked == [("2120000142", received.caseworker_pseudonym)]


async def test_a_remembered_access_decision_is_used_without_asking_again(
    services: dict[Provider, FakeBaseService],
) -> None:
    remembered = AccessDecision("CASEWORKER_REVOKED", vehicle_register_consent=False)
    policy = FakeAccessPolicy(remembered=remembered)
    queries = build(services, access_policy=policy)
    with pytest.raises(PermissionDeniedError, match="CASEWORKER_REVOKED"):
        await queries.submit(command())
    assert policy.asked == []


async def test_without_vehicle_register_consent_transportstyrelsen_is_not_entitled_not_failed(
    services: dict[Provider, FakeBaseService],
) -> None:
    """002: vehicle data only with the municipality's written consent."""
    queries = build(services, access_policy=FakeAccessPolicy(vehicle_register_consent=False))
    answer = await queries.submit(command(SUBJECTS[:2]))
    assert {p.kind for p in answer.parts if p.provider is Provider.TRANSPORTSTYRELSEN} == {
        OutcomeKind.NOT_ENTITLED
    }
    assert services[Provider.TRANSPORTSTYRELSEN].calls == []
    assert part(answer, Provider.CSN).kind is OutcomeKind.ANSWERED
    compiled = [e for e in stored_events(queries) if isinstance(e, Query.Compiled)]
    assert compiled[0].not_entitled == 2


async def test_a_query_whose_caller_goes_away_is_recorded_as_cancelled(
    services: dict[Provider, FakeBaseService],
) -> None:
    services[Provider.CSN].mode = "hang"
    queries = build(services, settings=SagaSettings())  # 5.6 s: the caller leaves long before
    task = asyncio.create_task(queries.submit(command()))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    names = [type(e).__name__ for e in stored_events(queries)]
    assert names == ["Received", "Cancelled"]
    assert services[Provider.CSN].cancelled == 1


async def test_recovery_abandons_a_query_left_open_past_its_deadline_once(
    services: dict[Provider, FakeBaseService],
) -> None:
    """A killed process leaves ``Received`` alone; recovery closes it after the deadline."""
    clock = FakeClock(WEDNESDAY_NOON)
    queries = Queries(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        base_services=services,
        clock=clock,
        pseudonymiser=FakePseudonymiser(),
        transcodings=query_transcodings(),
        settings=SagaSettings(budget_fraction=0.05, abandon_grace_s=30),
    )
    opened = Query.receive(
        query_id=uuid.uuid4(),
        asking_organisation="2120000142",
        caseworker_pseudonym="p" * 32,
        subject_count=1,
        selections=[
            ProviderSelection(Provider.CSN, Period.of(dt.date(2026, 1, 1), dt.date(2026, 2, 1)))
        ],
        purpose=Purpose.FINANCIAL_ASSISTANCE_CASE,
        legal_basis=LegalBasis.SOL_11_KAP_11,
        period=Period.of(dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
        deadline=WEDNESDAY_NOON + dt.timedelta(seconds=5),
        at=WEDNESDAY_NOON,
    )
    queries.save(opened)  # what a killed process leaves behind
    await queries.submit(command())  # a query that ends properly is never touched
    clock.advance(dt.timedelta(seconds=20))
    assert queries.close_abandoned() == 0  # within deadline + grace: it may still be running
    clock.advance(dt.timedelta(seconds=20))
    assert queries.close_abandoned() == 1
    assert queries.close_abandoned() == 0
    assert queries.repository.get(opened.id).status is QueryStatus.ABANDONED


async def test_recovery_calls_the_pacer_after_each_full_page_of_the_log(
    services: dict[Provider, FakeBaseService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The periodic round is paced (``application.pacing``): a pause after each page."""
    monkeypatch.setattr("application.recovery._PAGE", 2)
    queries = Queries(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        base_services=services,
        clock=FakeClock(WEDNESDAY_NOON),
        pseudonymiser=FakePseudonymiser(),
        transcodings=query_transcodings(),
        settings=SagaSettings(budget_fraction=0.05, abandon_grace_s=30),
    )
    for _ in range(2):  # each: Received, then Delivered among the rest
        await queries.submit(command())
    paced: list[int] = []
    assert queries.close_abandoned(pace=lambda: paced.append(1)) == 0
    assert len(paced) == 2  # two full pages (Received, Delivered, twice), then an empty one
    assert queries.close_abandoned(pace=lambda: paced.append(1)) == 0
    assert len(paced) == 2  # nothing new: one short page, no pause
