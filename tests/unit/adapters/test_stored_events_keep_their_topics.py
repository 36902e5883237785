"""Events stored before Incident and Problem shared their service-level code, and before the
Party aggregate was split into joining and leaving, keep their topics and still reconstruct.

``events_stored_before_the_splits.json`` was written by the code at fd51bf7 (issue 12): every
event type of Incident, Problem and Party, with the real transcodings, as the recorder stored
them. Topics are stored data; a class that moves must keep answering to its old topic.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent, Transcoding
from eventsourcing.utils import get_topic, resolve_topic

from adapters.persistence.transcodings import incident_transcodings, party_transcodings
from application.base import ServiceApplication
from domain.incident.incident import Incident, IncidentStatus
from domain.incident.problem import Problem, ProblemStatus
from domain.incident.service_levels import DeadlineKind, Priority
from domain.party.aggregate import Party
from domain.party.values import BreachNotifier, PartyRole, PartyStatus
from domain.providers import Provider

STORED: dict[str, list[dict[str, Any]]] = json.loads(
    (Path(__file__).parent / "events_stored_before_the_splits.json").read_text()
)


def _app(kind: str, transcodings: Callable[[], Sequence[Transcoding]]) -> ServiceApplication:
    app = ServiceApplication(env={}, transcodings=transcodings())
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"].encode(),
            )
            for row in STORED[kind]
        ]
    )
    return app


def _event_classes(aggregate: type[Any]) -> dict[str, type[Any]]:
    return {
        name: value
        for name, value in vars(aggregate).items()
        if isinstance(value, type)
        and issubclass(value, aggregate.Event)
        and name not in ("Event", "Created")  # the library's own, never triggered here
    }


@pytest.mark.parametrize("kind", ["incident", "party"])
def test_every_stored_topic_resolves_to_the_class_that_writes_it_now(kind: str) -> None:
    topics = {row["topic"] for row in STORED[kind]}
    for topic in topics:
        _module, _, qualname = topic.partition(":")
        owner = {"Incident": Incident, "Problem": Problem, "Party": Party}[qualname.split(".")[0]]
        cls = getattr(owner, qualname.split(".")[1])
        assert resolve_topic(topic) is cls
        assert get_topic(cls) == topic, f"{cls} would now be stored under another topic"


def test_the_fixture_holds_every_event_type_of_the_three_aggregates() -> None:
    stored = {row["topic"] for rows in STORED.values() for row in rows}
    for aggregate in (Incident, Problem, Party):
        written = {get_topic(cls) for cls in _event_classes(aggregate).values()}
        assert written <= stored, sorted(written - stored)


def test_the_shared_service_level_events_keep_each_aggregates_topic() -> None:
    assert get_topic(Incident.Reprioritised) == "domain.incident.incident:Incident.Reprioritised"
    assert get_topic(Incident.DeadlineBreached) == (
        "domain.incident.incident:Incident.DeadlineBreached"
    )
    assert get_topic(Problem.Reprioritised) == "domain.incident.problem:Problem.Reprioritised"
    assert get_topic(Problem.DeadlineBreached) == "domain.incident.problem:Problem.DeadlineBreached"


def test_incidents_and_problems_stored_before_reconstruct() -> None:
    app = _app("incident", incident_transcodings)

    incident: Any = app.repository.get(UUID(int=1))
    assert isinstance(incident, Incident)
    assert incident.status is IncidentStatus.REPORTED_BACK
    assert incident.priority is Priority.CRITICAL
    assert [b.kind for b in incident.breaches] == [DeadlineKind.RESPONSE, DeadlineKind.RESOLUTION]
    assert incident.deadlines is not None
    assert incident.breaches[0].due == incident.deadlines.response_due

    detected: Any = app.repository.get(UUID(int=4))
    assert isinstance(detected, Incident)
    assert detected.condition_active
    assert detected.recurrences == 1
    assert detected.providers == [p for p in Provider if p in (Provider.CSN, Provider.SKATTEVERKET)]
    assert detected.evidence_query_ids == [UUID(int=10), UUID(int=11), UUID(int=12)]

    problem: Any = app.repository.get(UUID(int=2))
    assert isinstance(problem, Problem)
    assert problem.status is ProblemStatus.KNOWN_ERROR
    assert problem.priority is Priority.CRITICAL
    assert problem.incident_ids == [UUID(int=1), UUID(int=3)]
    assert problem.known_error == "KE-1"
    assert problem.workaround_available
    assert [b.kind for b in problem.breaches] == [DeadlineKind.RESPONSE, DeadlineKind.RESOLUTION]


def test_parties_stored_before_reconstruct() -> None:
    app = _app("party", party_transcodings)
    stored_ids = dict.fromkeys(row["originator_id"] for row in STORED["party"])
    municipality: Any
    provider: Any
    municipality, provider = (app.repository.get(UUID(i)) for i in stored_ids)
    assert isinstance(municipality, Party)
    assert isinstance(provider, Party)

    assert municipality.roles == frozenset({PartyRole.MUNICIPALITY})
    assert municipality.acceptances
    assert not municipality.pending_acceptances
    assert municipality.in_force_from == dt.date(2026, 3, 9)
    assert municipality.connected_within_target is True
    assert municipality.withdrawal_effective_on == dt.date(2026, 12, 31)
    assert municipality.forced_exit_on == dt.date(2026, 10, 1)
    assert municipality.terminated_on == dt.date(2026, 7, 7)
    assert municipality.breach is not None
    assert municipality.breach.notified_by is BreachNotifier.SKR
    assert municipality.stopped_providers == ["2021005448"]
    assert municipality.consent_withdrawn_on == dt.date(2026, 5, 6)
    assert municipality.status_on(dt.date(2026, 7, 7)) is PartyStatus.TERMINATED
    assert municipality.status_on(dt.date(2026, 6, 1)) is PartyStatus.CONNECTED

    assert provider.provider is Provider.SKATTEVERKET
    assert provider.status_on(dt.date(2026, 1, 1)) is PartyStatus.CONNECTED


def test_commands_still_write_every_party_event_under_the_aggregates_module() -> None:
    fresh = Party.found(
        organisation="2021005448",
        name="Skatteverket",
        roles=frozenset({PartyRole.DATA_PROVIDER}),
        provider=Provider.SKATTEVERKET,
        at=dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC),
    )
    fresh.give_withdrawal_notice(at=dt.datetime(2026, 1, 3, 10, tzinfo=dt.UTC))
    assert [get_topic(type(e)) for e in fresh.collect_events()] == [
        "domain.party.aggregate:Party.Founded",
        "domain.party.aggregate:Party.WithdrawalNoticeGiven",
    ]
