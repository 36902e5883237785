"""``Incidents``: incident and problem management at the single point of contact (Bilaga 4 § 3).

A process application (the library's ``ProcessApplication``): people register and work
incidents and problems through its commands, and it follows the ``Queries`` application's
notification log to open, update and clear incidents by itself (``Monitor``, ADR 0010).
Deadlines are computed on the business-hours clock passed in (ADR 0009); the scheduled
check ``record_breaches(now)`` records each deadline that passed unmet, once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TypeVar
from uuid import UUID

import attrs
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Tracking, Transcoding
from eventsourcing.system import ProcessApplication
from eventsourcing.utils import get_topic

from application.automatic_incidents import Monitor, QueryTrail, RepositoryQueryTrail
from application.base import ServiceApplication
from application.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RuleViolationError,
)
from application.ports import Clock
from application.registrations import Page, Registrations
from domain.business_hours import BusinessHours
from domain.clauses import RuleBrokenError
from domain.errors import FieldViolation, InvalidFieldError
from domain.incident.incident import Incident
from domain.incident.problem import Problem
from domain.incident.reporter import Reporter
from domain.incident.service_levels import DeadlineKind, Impact, Priority
from domain.providers import Provider
from domain.query.aggregate import Query

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)


@attrs.frozen
class RecordedBreach:
    """A breach the scheduled check recorded: of which case, which deadline."""

    case_id: UUID
    kind: DeadlineKind


@contextmanager
def reported_rules() -> Iterator[None]:
    """A broken domain rule becomes the application's ``RuleViolationError``; a field the
    aggregate refused to record (``InvalidFieldError``) an ``InvalidRequestError`` naming it."""
    try:
        yield
    except RuleBrokenError as error:
        raise RuleViolationError(error.rule, error.clause) from None
    except InvalidFieldError as error:
        raise InvalidRequestError([FieldViolation(error.field, error.description)]) from None


class Incidents(ServiceApplication, ProcessApplication[UUID]):
    """Incidents and problems, and the automatic incidents of the monitoring."""

    name = "Incidents"
    topics = (get_topic(Query.Compiled),)
    pull_section_size = 10
    """Notifications per pulled section, one transaction each (``pull_and_process``): the
    ``Queries`` log's own section size, the most its reader may ask for at once."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        clock: Clock,
        hours: BusinessHours,
        transcodings: Sequence[Transcoding],
    ) -> None:
        self._clock = clock
        self._hours = hours
        self._trail: QueryTrail | None = None
        self._leader = ""
        self._settled: set[UUID] = set()
        super().__init__(env=env, transcodings=transcodings)
        self.registrations = Registrations(
            self.recorder, self.mapper, [Incident.Registered, Problem.Registered]
        )
        self._monitor = Monitor(self.repository, self.registrations, hours)

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def hours(self) -> BusinessHours:
        return self._hours

    # --- following the query audit trail -------------------------------------------------

    def follow_queries(self, queries: Application[UUID], trail: QueryTrail | None = None) -> None:
        """Follow the ``Queries`` application's log; read finished queries from its repository."""
        self.follow(queries.name, queries.notification_log)
        self._leader = queries.name
        self._trail = trail or RepositoryQueryTrail(queries.repository)

    @property
    def follows_queries(self) -> bool:
        return bool(self._leader)

    def reread_automatic_incidents(self) -> None:
        """Before following again after a pause: another process may have followed the log
        and registered automatic incidents meanwhile (the background roles, ADR 13)."""
        self._monitor.forget()

    def process_queries(self) -> None:
        """Process the query events recorded since the last tracking record (exactly once)."""
        if not self._leader:
            raise RuntimeError("follow_queries() first")
        self.pull_and_process(self._leader)

    def pull_and_process(
        self, leader_name: str, start: int | None = None, stop: int | None = None
    ) -> None:
        """The library's ``pull_and_process`` with ONE transaction per pulled section.

        The library records each event with its tracking record in a transaction of its
        own: under load, one transaction per compiled query (the benchmark profile). Here
        the policy sees every event of a section (up to ``pull_section_size``) on one
        ``ProcessingEvent`` whose tracking record is the section's last notification, and
        the library's own steps record it (``_record``, ``_take_snapshots``, ``_notify``,
        as ``process_event`` does): every effect of the section and its position are
        saved together or not at all, so still exactly once. A failed section is read
        again from the last tracking record.
        """
        if start is None:
            start = self.recorder.max_tracking_id(leader_name)
        for notifications in self.pull_notifications(
            leader_name, start=start, stop=stop, inclusive_of_start=False
        ):
            jobs = self.convert_notifications(
                leader_name, self.filter_received_notifications(notifications)
            )
            if jobs:
                self._process_section(jobs)

    def _process_section(self, jobs: Sequence[tuple[DomainEventProtocol[UUID], Tracking]]) -> None:
        processing_event = ProcessingEvent[UUID](tracking=jobs[-1][1])
        with self.processing_lock:
            try:
                for domain_event, _ in jobs:
                    self.policy(domain_event, processing_event)
                recordings = self._record(processing_event)
            except BaseException:
                self._monitor.forget()
                raise
            self._take_snapshots(processing_event)
            self.notify(processing_event.events)
            self._notify(recordings)

    def policy(
        self,
        domain_event: DomainEventProtocol[UUID],
        processing_event: ProcessingEvent[UUID],
    ) -> None:
        if isinstance(domain_event, Query.Compiled) and self._trail is not None:
            self._monitor.observe(domain_event, self._trail, processing_event)

    # --- incidents -----------------------------------------------------------------------

    def register_incident(
        self,
        reporter: Reporter,
        impact: Impact,
        *,
        priority: Priority | None = None,
        providers: Sequence[Provider] = (),
    ) -> UUID:
        with reported_rules():
            incident = Incident.register(
                incident_id=uuid.uuid4(),
                reporter=reporter,
                impact=impact,
                priority=priority,
                providers=list(providers),
                clock=self._hours,
                at=self._clock.now(),
            )
        self._save(incident)
        return incident.id

    def prioritise_incident(self, incident_id: UUID, priority: Priority) -> Incident:
        with self._changing(incident_id, Incident) as incident:
            incident.prioritise(priority, clock=self._hours, at=self._clock.now())
        return incident

    def respond_to_incident(self, incident_id: UUID) -> Incident:
        with self._changing(incident_id, Incident) as incident:
            incident.respond(at=self._clock.now())
        return incident

    def resolve_incident(self, incident_id: UUID) -> Incident:
        with self._changing(incident_id, Incident) as incident:
            incident.resolve(at=self._clock.now())
        return incident

    def report_incident_back(self, incident_id: UUID) -> Incident:
        with self._changing(incident_id, Incident) as incident:
            incident.report_back(at=self._clock.now())
        return incident

    def get_incident(self, incident_id: UUID) -> Incident:
        return self._get(incident_id, Incident)

    def list_incidents(self, *, open_only: bool = False, limit: int = 100) -> list[Incident]:
        """Newest first; ``open_only`` leaves out resolved incidents."""
        return self._list(Incident, open_only, limit)

    # --- problems ------------------------------------------------------------------------

    def register_problem(self, incident_ids: Sequence[UUID], priority: Priority) -> UUID:
        for incident_id in incident_ids:
            self._get(incident_id, Incident)
        with reported_rules():
            problem = Problem.register(
                problem_id=uuid.uuid4(),
                incident_ids=list(incident_ids),
                priority=priority,
                clock=self._hours,
                at=self._clock.now(),
            )
        self._save(problem)
        return problem.id

    def link_incidents_to_problem(self, problem_id: UUID, incident_ids: Sequence[UUID]) -> Problem:
        for incident_id in incident_ids:
            self._get(incident_id, Incident)
        with self._changing(problem_id, Problem) as problem:
            problem.link_incidents(list(incident_ids), at=self._clock.now())
        return problem

    def prioritise_problem(self, problem_id: UUID, priority: Priority) -> Problem:
        with self._changing(problem_id, Problem) as problem:
            problem.prioritise(priority, clock=self._hours, at=self._clock.now())
        return problem

    def start_problem_investigation(self, problem_id: UUID) -> Problem:
        with self._changing(problem_id, Problem) as problem:
            problem.start_investigation(at=self._clock.now())
        return problem

    def establish_known_error(
        self, problem_id: UUID, known_error: str, *, workaround_available: bool
    ) -> Problem:
        with self._changing(problem_id, Problem) as problem:
            problem.establish_known_error(
                known_error, workaround_available=workaround_available, at=self._clock.now()
            )
        return problem

    def get_problem(self, problem_id: UUID) -> Problem:
        return self._get(problem_id, Problem)

    def list_problems(self, *, open_only: bool = False, limit: int = 100) -> list[Problem]:
        return self._list(Problem, open_only, limit)

    def page_incidents(
        self, *, open_only: bool = False, limit: int = 100, before: int | None = None
    ) -> Page[Incident]:
        """One page of ``list_incidents``: newest first, registered before position ``before``."""
        return self._page(Incident, open_only, limit, before)

    def page_problems(
        self, *, open_only: bool = False, limit: int = 100, before: int | None = None
    ) -> Page[Problem]:
        """One page of ``list_problems``: newest first, registered before position ``before``."""
        return self._page(Problem, open_only, limit, before)

    # --- the scheduled check -------------------------------------------------------------

    def record_breaches(self, now: dt.datetime) -> list[RecordedBreach]:
        """Record every deadline of an unresolved incident or problem that has passed unmet.

        Run by a scheduler with the injected clock's time. Each breach is recorded once:
        the aggregate knows the breaches it has, and two processes racing to record the
        same one collide on the aggregate's version (the loser skips it).
        """
        recorded: list[RecordedBreach] = []
        for case_id in self.registrations.ids():
            if case_id in self._settled:
                continue
            with self.processing_lock:
                case: Incident | Problem = self.repository.get(case_id)
                if case.is_resolved:
                    self._settled.add(case_id)
                    continue
                found = case.record_breaches(now)
                if not found:
                    continue
                try:
                    self.save(case)
                except IntegrityError:
                    log.info("a breach was recorded concurrently; skipped")
                    continue
            recorded.extend(RecordedBreach(case_id, kind) for kind in found)
        return recorded

    # --- helpers -------------------------------------------------------------------------

    def get_aggregate(self, aggregate_id: UUID, kind: type[A]) -> A:
        """One aggregate of this store, of the given kind (``NotFoundError`` otherwise)."""
        return self._get(aggregate_id, kind)

    def save_aggregate(self, aggregate: Aggregate) -> None:
        """Save under the processing lock; a lost race is ``ConflictError``."""
        self._save(aggregate)

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A:
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(kind.__name__.lower()) from None
        if not isinstance(found, kind):
            raise NotFoundError(kind.__name__.lower())
        return found

    def _list(self, kind: type[A], open_only: bool, limit: int) -> list[A]:
        return self._page(kind, open_only, limit, before=None).items

    def _page(self, kind: type[A], open_only: bool, limit: int, before: int | None) -> Page[A]:
        def load(aggregate_id: UUID) -> A | None:
            aggregate = self._get(aggregate_id, kind)
            return None if open_only and getattr(aggregate, "is_resolved", False) else aggregate

        created = Incident.Registered if kind is Incident else Problem.Registered
        return self.registrations.page(load, limit=limit, before=before, kind=created)

    @contextmanager
    def _changing(self, aggregate_id: UUID, kind: type[A]) -> Iterator[A]:
        """Read, change and save one aggregate, serialised with the monitoring's processing."""
        with self.processing_lock:
            aggregate = self._get(aggregate_id, kind)
            with reported_rules():
                yield aggregate
            self._save_locked(aggregate)

    def _save(self, aggregate: Aggregate) -> None:
        with self.processing_lock:
            self._save_locked(aggregate)

    def _save_locked(self, aggregate: Aggregate) -> None:
        try:
            self.save(aggregate)
        except IntegrityError:
            raise ConflictError from None
