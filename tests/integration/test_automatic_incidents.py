"""Automatic incidents from real ``Queries`` events, on SQLite and a real PostgreSQL.

The ``Incidents`` process application follows the query audit trail (Bilaga 4 § 3.2:
incidents found by monitoring; § 3.8: two or more providers that cannot answer make the
service "available with disturbance", and an incident must exist at the single point of
contact). Its effects are recorded with the library's tracking records, exactly once,
also across a restart (ADR 0010).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Recording
from eventsourcing.utils import get_topic

from application.queries import Queries
from domain.incident.conditions import Condition
from domain.incident.incident import Incident
from domain.incident.reporter import Reporter
from domain.incident.service_levels import DeadlineKind, Impact, Priority
from domain.providers import STOCKHOLM, Provider
from domain.query.aggregate import Query
from domain.query.values import (
    CallOutcome,
    ErrorSource,
    LegalBasis,
    OutcomeKind,
    Period,
    ProviderSelection,
    Purpose,
)
from infrastructure.composition import (
    ServiceManagement,
    build_queries,
    build_service_management,
)
from infrastructure.settings import Settings
from tests.fakes import FakeBaseService, FakeClock, fake_base_services
from tests.legacy_queries import answer_as_before_v3
from tests.service_management_support import query_command

WEDNESDAY_NOON = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)
PERIOD = Period(dt.date(2026, 5, 1), dt.date(2026, 10, 31))


class Service:
    """The query application and service management on one store, as the server wires them."""

    def __init__(self, settings: Settings, services: dict[Provider, FakeBaseService]) -> None:
        self.settings = settings
        self.services = services
        self.clock = FakeClock(WEDNESDAY_NOON)
        self.queries: Queries = build_queries(settings, base_services=services, clock=self.clock)
        self.management: ServiceManagement = build_service_management(
            settings, clock=self.clock, queries=self.queries
        )

    async def ask(self, times: int = 1) -> None:
        for _ in range(times):
            await self.queries.submit(query_command())
            self.clock.advance(dt.timedelta(minutes=1))

    def set(self, **modes: str) -> None:
        for provider in Provider:
            self.services[provider].mode = modes.get(provider.name.lower(), "answer")

    def incidents(self) -> list[Incident]:
        return self.management.incidents.list_incidents()

    def restart_incidents(self) -> None:
        """A new process application on the same store (the old one is closed)."""
        self.management.close()
        self.management = build_service_management(
            self.settings, clock=self.clock, queries=self.queries
        )

    def stored_incident_events(self) -> int:
        return self.management.incidents.recorder.max_notification_id() or 0

    def close(self) -> None:
        self.management.close()
        self.queries.close()


@pytest.fixture
def service(durable_store_settings: Settings) -> Iterator[Service]:
    running = Service(durable_store_settings, fake_base_services())
    yield running
    running.close()


async def test_two_failing_providers_open_one_incident_however_many_queries_show_it(
    service: Service,
) -> None:
    """§ 3.8: one incident for the disturbance, updated, never duplicated."""
    service.set(csn="fail", skatteverket="hang")
    await service.ask(4)
    await service.management.process_queries()
    (incident,) = service.incidents()
    assert incident.condition is Condition.PROVIDERS_UNAVAILABLE
    assert incident.priority is Priority.HIGH
    assert incident.impact is Impact.TIMEOUTS
    assert incident.providers == [Provider.CSN, Provider.SKATTEVERKET]
    assert incident.condition_active
    assert incident.reporter.kind.value == "MONITORING"
    await service.ask(3)
    await service.management.process_queries()
    assert [i.id for i in service.incidents()] == [incident.id]
    assert service.management.incidents.get_incident(incident.id).version == 1


async def test_an_automatic_incident_records_the_impact_its_calls_show_and_its_priority(
    service: Service,
) -> None:
    """§ 3.3.3 ranks "single calls cannot be answered" low: two providers failing without a
    time-out open a low incident (§ 3.8 asks for one). Time-outs seen later rank above it,
    so they open their own high incident rather than hide under the low one."""
    service.set(csn="fail", skatteverket="fail")
    await service.ask()
    await service.management.process_queries()
    (low,) = service.incidents()
    assert low.condition is Condition.PROVIDERS_UNAVAILABLE
    assert (low.impact, low.priority) == (Impact.SINGLE_CALLS_UNANSWERED, Priority.LOW)

    service.set(csn="hang", skatteverket="fail")
    await service.ask()
    await service.management.process_queries()
    by_condition = {i.condition: i for i in service.incidents()}
    assert set(by_condition) == {Condition.PROVIDERS_UNAVAILABLE, Condition.TIMEOUTS}
    high = by_condition[Condition.TIMEOUTS]
    assert (high.impact, high.priority) == (Impact.TIMEOUTS, Priority.HIGH)
    assert high.providers == [Provider.CSN]


async def test_a_query_stored_before_compiled_v3_is_read_from_the_trail(
    service: Service,
) -> None:
    """Up to Compiled v2 the outcomes were ProviderAnswered events before it: the monitor
    reads them back from the query trail."""
    query = Query.receive(
        query_id=uuid.uuid4(),
        asking_organisation="2120000142",
        caseworker_pseudonym="0" * 32,
        subject_count=1,
        selections=[ProviderSelection(p, PERIOD) for p in Provider],
        purpose=Purpose.FINANCIAL_ASSISTANCE_CASE,
        legal_basis=LegalBasis.SOL_11_KAP_11,
        period=PERIOD,
        deadline=WEDNESDAY_NOON + dt.timedelta(seconds=5),
        at=WEDNESDAY_NOON,
    )
    failing = {Provider.CSN: "1001", Provider.SKATTEVERKET: "1002"}
    outcomes = {
        provider: [
            CallOutcome(0, OutcomeKind.ANSWERED, 40)
            if provider not in failing
            else CallOutcome(0, OutcomeKind.ERROR, 40, ErrorSource.BT, failing[provider])
        ]
        for provider in Provider
    }
    answer_as_before_v3(query, outcomes, WEDNESDAY_NOON)
    service.queries.save(query)

    await service.management.process_queries()
    (incident,) = service.incidents()
    assert incident.condition is Condition.PROVIDERS_UNAVAILABLE
    assert incident.providers == [Provider.CSN, Provider.SKATTEVERKET]


async def test_a_query_that_nothing_answered_opens_a_critical_incident(service: Service) -> None:
    """§ 3.3.3 priority 1: the flow is broken, no call can be answered."""
    service.set(**{p.name.lower(): "unreachable" for p in Provider})
    await service.ask(2)
    await service.management.process_queries()
    (incident,) = service.incidents()
    assert incident.condition is Condition.NO_ANSWER
    assert incident.priority is Priority.CRITICAL
    assert incident.deadlines is not None
    assert incident.deadlines.response_due == WEDNESDAY_NOON + dt.timedelta(minutes=30)
    assert set(incident.providers) == set(Provider)


async def test_the_incident_records_when_the_condition_clears_and_when_it_returns(
    service: Service,
) -> None:
    """Closing the loop: the monitoring's incident shows the condition's end, and its return
    while the incident is still open renews the same incident."""
    service.set(csn="fail", arbetsformedlingen="fail")
    await service.ask()
    service.set()
    await service.ask()
    await service.management.process_queries()
    (incident,) = service.incidents()
    assert not incident.condition_active
    assert incident.condition_cleared_at == WEDNESDAY_NOON + dt.timedelta(minutes=1)
    service.set(csn="fail", migrationsverket="fail")
    await service.ask()
    await service.management.process_queries()
    (renewed,) = service.incidents()
    assert renewed.id == incident.id
    assert renewed.condition_active
    assert renewed.recurrences == 1
    assert Provider.MIGRATIONSVERKET in renewed.providers
    assert len(renewed.evidence_query_ids) == 3


async def test_a_resolved_incident_is_not_reopened_a_new_one_is(service: Service) -> None:
    service.set(csn="fail")
    await service.ask()
    await service.management.process_queries()
    (low,) = service.incidents()
    assert (low.condition, low.priority) == (Condition.CALLS_UNANSWERED, Priority.LOW)
    service.management.incidents.respond_to_incident(low.id)
    service.management.incidents.resolve_incident(low.id)
    await service.ask()
    await service.management.process_queries()
    newest, resolved = service.incidents()
    assert resolved.id == low.id
    assert newest.condition is Condition.CALLS_UNANSWERED


async def test_a_restarted_process_application_processes_nothing_twice(service: Service) -> None:
    """The tracking record is written with the effects, in one transaction: a new instance
    on the same store continues after the last processed query event."""
    service.set(csn="fail", skatteverket="fail")
    await service.ask(2)
    await service.management.process_queries()
    stored = service.stored_incident_events()
    service.restart_incidents()
    await service.management.process_queries()
    assert service.stored_incident_events() == stored
    (incident,) = service.incidents()
    service.set()
    await service.ask()
    service.restart_incidents()
    await service.management.process_queries()
    await service.management.process_queries()
    (cleared,) = service.incidents()
    assert cleared.id == incident.id
    assert not cleared.condition_active
    assert service.stored_incident_events() == stored + 1


async def test_processing_a_query_event_again_is_refused_by_the_store(service: Service) -> None:
    """Exactly once: forcing the follower back to the first event records nothing."""
    service.set(csn="fail", skatteverket="fail")
    await service.ask()
    await service.management.process_queries()
    stored = service.stored_incident_events()
    with pytest.raises(IntegrityError):
        service.management.incidents.pull_and_process("Queries", start=1)
    assert service.stored_incident_events() == stored
    assert len(service.incidents()) == 1


async def test_a_breach_is_recorded_once_also_across_a_restart(service: Service) -> None:
    """Bilaga 4 § 3.3.3: a critical incident's 30-minute response deadline passes unmet."""
    incidents = service.management.incidents
    incident_id = incidents.register_incident(
        Reporter.organisation("212000-0142", "INC-1"), Impact.FLOW_BROKEN
    )
    service.clock.advance(dt.timedelta(minutes=31))
    assert [b.case_id for b in await service.management.record_breaches()] == [incident_id]
    service.restart_incidents()
    assert await service.management.record_breaches() == []
    service.clock.advance(dt.timedelta(days=1))
    (resolution,) = await service.management.record_breaches()
    assert resolution.kind is DeadlineKind.RESOLUTION
    breaches = service.management.incidents.get_incident(incident_id).breaches
    assert [b.kind for b in breaches] == [DeadlineKind.RESPONSE, DeadlineKind.RESOLUTION]


async def test_a_pulled_section_is_recorded_in_one_transaction_with_its_last_position(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One record (one transaction, one tracking record) per pulled section, not per query
    event: the effects of every query in it and the section's last position together."""
    service.set(csn="fail", skatteverket="hang")
    await service.ask(3)
    compiled = [
        n.id
        for n in service.queries.recorder.select_notifications(
            start=1, limit=10, topics=[get_topic(Query.Compiled)]
        )
    ]
    assert len(compiled) == 3
    incidents = service.management.incidents
    recorded: list[int | None] = []
    record = incidents._record

    def counted(processing_event: ProcessingEvent[uuid.UUID]) -> list[Recording[uuid.UUID]]:
        tracking = processing_event.tracking
        recorded.append(None if tracking is None else tracking.notification_id)
        return record(processing_event)

    monkeypatch.setattr(incidents, "_record", counted)
    await service.management.process_queries()
    assert recorded == [compiled[-1]]
    assert incidents.recorder.max_tracking_id("Queries") == compiled[-1]
    (incident,) = service.incidents()
    assert incident.condition_active
