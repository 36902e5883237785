"""The monitoring's side of incident management: automatic incidents from compiled queries.

``Incidents`` follows the ``Queries`` application's notification log (Bilaga 4 § 3.2:
incidents found by monitoring are handled like reported ones; § 3.8: when two or more
providers cannot answer, an incident must be opened at the single point of contact).
For every ``Query.Compiled`` it takes the query's provider outcomes from the event (up
to ``Compiled`` v2 they were earlier events of the query, read back through
``QueryTrail``: the query is finished and never changes again, so reading it twice gives
the same answer), classifies the query (``domain.incident.conditions``)
and opens, updates or clears the automatic incident of each condition. Every change is
collected on the library's ``ProcessingEvent``, so it is written in one transaction
with the tracking record of the query event: exactly once, also across restarts
(ADR 0010).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol
from uuid import UUID

from eventsourcing.application import ProcessingEvent, Repository

from application.registrations import Registrations
from domain.business_hours import BusinessHours
from domain.incident.conditions import Condition, QueryObservation
from domain.incident.incident import Incident
from domain.incident.service_levels import Priority
from domain.providers import Provider
from domain.query.aggregate import Query
from domain.query.values import CallOutcome

AUTOMATIC_NAMESPACE: Final = UUID("0b4f7c1e-6a55-4d8e-9b2a-5e1d6f3c2a90")
UNCOVERED: Final = len(Priority) + 1
"""Below every priority number: no incident covers the query's conditions yet."""


class QueryTrail(Protocol):
    """Reads one finished query's provider outcomes from the query audit trail."""

    def provider_outcomes(self, query_id: UUID) -> Mapping[Provider, Sequence[CallOutcome]]: ...


class RepositoryQueryTrail:
    """The query trail read from the ``Queries`` application's repository (read-only)."""

    def __init__(self, repository: Repository[UUID]) -> None:
        self._repository = repository

    def provider_outcomes(self, query_id: UUID) -> Mapping[Provider, Sequence[CallOutcome]]:
        query: Query = self._repository.get(query_id)
        return dict(query.outcomes)


def automatic_incident_id(condition: Condition, query_id: UUID) -> UUID:
    """The id of the incident a query opens for a condition: processing the same query
    event twice could never open two incidents (the second would conflict)."""
    return uuid.uuid5(AUTOMATIC_NAMESPACE, f"{condition.value}:{query_id}")


class Monitor:
    """Decides, per compiled query, what the automatic incidents record."""

    def __init__(
        self, repository: Repository[UUID], registrations: Registrations, hours: BusinessHours
    ) -> None:
        self._repository = repository
        self._registrations = registrations
        self._hours = hours
        self._resolved: set[UUID] = set()
        self._latest: dict[Condition, UUID] | None = None
        """The newest automatic incident of each condition. Only this monitor registers
        automatic incidents while its process holds the background roles (ADR 13), so it is
        read from the registrations once and then kept up to date here, also with incidents
        detected earlier in a section whose events are not saved yet (``forget`` if that
        fails, or when the roles are taken again after another process held them)."""

    def forget(self) -> None:
        """A section's events were not saved: read the registrations again next time."""
        self._latest = None

    def observe(
        self,
        compiled: Query.Compiled,
        trail: QueryTrail,
        processing_event: ProcessingEvent[UUID],
    ) -> None:
        open_incidents = self._open_automatic_incidents(processing_event)
        if not compiled.errors and not any(i.condition_active for i in open_incidents.values()):
            return  # a clean query while nothing is wrong: nothing to read, nothing to record
        query_id = compiled.originator_id
        outcomes: Mapping[Provider, Sequence[CallOutcome]] = {
            calls.provider: calls.outcomes for calls in compiled.calls
        } or trail.provider_outcomes(query_id)  # before Compiled v3: read from the trail
        observation = QueryObservation.of(outcomes)
        cover = UNCOVERED  # the most severe priority (1-4) of the incidents this query shows
        for condition in Condition:
            incident = open_incidents.get(condition)
            at = (
                compiled.timestamp
                if incident is None
                else max(compiled.timestamp, incident.modified_on)
            )
            if observation.shows(condition):
                concerned = observation.concerned(condition)
                if incident is not None:
                    incident.observe_condition(concerned, query_id=query_id, at=at)
                    processing_event.collect_events(incident)
                    cover = min(cover, incident.priority.number)
                elif observation.priority(condition).number < cover:
                    # the first condition shown, or one that ranks above the incidents
                    # covering it (time-outs under a low "providers unavailable" incident)
                    cover = observation.priority(condition).number
                    detected = Incident.detect(
                        incident_id=automatic_incident_id(condition, query_id),
                        condition=condition,
                        impact=observation.impact(condition),
                        providers=concerned,
                        query_id=query_id,
                        clock=self._hours,
                        at=at,
                    )
                    processing_event.collect_events(detected)
                    self._latest_incidents()[condition] = detected.id
            elif (
                incident is not None
                and incident.condition_active
                and observation.clears(condition, frozenset(incident.providers))
            ):
                incident.clear_condition(query_id=query_id, at=at)
                processing_event.collect_events(incident)

    def _latest_incidents(self) -> dict[Condition, UUID]:
        if self._latest is None:
            latest: dict[Condition, UUID] = {}
            for incident_id in self._registrations.ids(Incident.Registered):
                created: Any = self._registrations.created(incident_id)
                if created is not None and created.condition is not None:
                    latest[created.condition] = incident_id
            self._latest = latest
        return self._latest

    def _open_automatic_incidents(
        self, processing_event: ProcessingEvent[UUID]
    ) -> dict[Condition, Incident]:
        """The newest automatic incident of each condition, if it is not resolved: as
        changed earlier in this section if it was, else as stored."""
        found: dict[Condition, Incident] = {}
        for condition, incident_id in self._latest_incidents().items():
            if incident_id in self._resolved:
                continue
            pending = processing_event.aggregates.get(incident_id)
            incident: Incident = (
                pending if isinstance(pending, Incident) else self._repository.get(incident_id)
            )
            if incident.is_resolved:
                self._resolved.add(incident_id)
            else:
                found[condition] = incident
        return found
