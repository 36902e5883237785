"""Translation between the incident and escalation messages and the domain's types.

Requests are read field by field; every broken field is collected and reported at once
(``InvalidQueryError``, ``INVALID_ARGUMENT`` with a ``BadRequest`` naming the fields),
never echoing a value. Unknown enum values are refused, not mapped (ADR 0005).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from google.protobuf.timestamp_pb2 import Timestamp

from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2 as epb
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as ipb
from adapters.grpc.translation import provider_from_proto, provider_to_proto
from application.errors import InvalidQueryError
from domain.clauses import RuleBrokenError
from domain.errors import FieldViolation, InvalidValueError
from domain.escalation.aggregate import Escalation
from domain.escalation.values import Acting, Forum, Party
from domain.incident.incident import Incident
from domain.incident.problem import Problem
from domain.incident.reporter import Reporter, ReporterKind
from domain.incident.service_levels import Breach, DeadlineKind, Priority
from domain.party.values import PartyRole
from domain.providers import Provider
from domain.reference import opaque_reference, organisation_digits

E = TypeVar("E", bound=enum.Enum)
MAX_LIST = 500


class Fields:
    """Reads a request's fields, collecting every violation; ``done()`` raises them at once."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def fail(self, field: str, description: str) -> None:
        self.violations.append(FieldViolation(field, description))

    def done(self) -> None:
        if self.violations:
            raise InvalidQueryError(self.violations)

    def uuid(self, field: str, text: str) -> UUID:
        try:
            return UUID(text)
        except ValueError:
            self.fail(field, "must be a UUID")
            return UUID(int=0)

    def uuids(self, field: str, texts: Iterable[str]) -> list[UUID]:
        return [self.uuid(f"{field}[{index}]", text) for index, text in enumerate(texts)]

    def enum(
        self, field: str, wrapper: Any, value: int, prefix: str, kind: type[E], *, required: bool
    ) -> E | None:
        if value == 0:
            if required:
                self.fail(field, "is required")
            return None
        try:
            name = str(wrapper.Name(value)).removeprefix(prefix)
        except ValueError:
            name = ""
        if name not in kind.__members__:
            self.fail(field, "is not a known value")
            return None
        return kind[name]

    def reference(self, field: str, text: str) -> str:
        try:
            return opaque_reference(text)
        except InvalidValueError as error:
            self.fail(field, error.description)
            return ""

    def organisation(self, field: str, text: str) -> str:
        try:
            return organisation_digits(text)
        except InvalidValueError as error:
            self.fail(field, error.description)
            return ""

    def providers(self, field: str, values: Iterable[int]) -> list[Provider]:
        found: list[Provider] = []
        for index, value in enumerate(values):
            provider = provider_from_proto(value)
            if provider is None:
                self.fail(f"{field}[{index}]", "is not a known provider")
            else:
                found.append(provider)
        return found

    def priority(self, field: str, value: int, *, required: bool) -> Priority | None:
        return self.enum(
            field, ipb.IncidentPriority, value, "INCIDENT_PRIORITY_", Priority, required=required
        )

    def reporter(self, field: str, message: ipb.IncidentReporter) -> Reporter:
        organisation = self.organisation(
            f"{field}.organisation_number", message.organisation_number
        )
        reference = self.reference(f"{field}.reference", message.reference)
        return Reporter(ReporterKind.ORGANISATION, organisation, reference)

    def party(self, field: str, message: epb.DisputeParty) -> Party:
        organisation = self.organisation(
            f"{field}.organisation_number", message.organisation_number
        )
        role = self.enum(
            f"{field}.role",
            epb.DisputePartyRole,
            message.role,
            "DISPUTE_PARTY_ROLE_",
            PartyRole,
            required=True,
        )
        return Party(organisation, role or PartyRole.MUNICIPALITY)

    def actor(self, field: str, message: epb.DisputeActor) -> Acting:
        party = self.party(f"{field}.party", message.party)
        behalf = (
            self.party(f"{field}.on_behalf_of", message.on_behalf_of)
            if message.HasField("on_behalf_of")
            else None
        )
        attorney = (
            self.reference(f"{field}.power_of_attorney", message.power_of_attorney)
            if message.power_of_attorney
            else ""
        )
        if self.violations:
            return Acting(party)
        try:
            return Acting(party, behalf, attorney)
        except RuleBrokenError as error:
            self.fail(field, error.rule)
            return Acting(party)

    def forum(self, field: str, value: int, *, required: bool) -> Forum | None:
        return self.enum(field, epb.DisputeForum, value, "DISPUTE_FORUM_", Forum, required=required)


def one_uuid(field: str, text: str) -> UUID:
    """The one id a request names, or ``INVALID_ARGUMENT`` naming the field."""
    fields = Fields()
    found = fields.uuid(field, text)
    fields.done()
    return found


def limit(requested: int) -> int:
    return MAX_LIST if requested <= 0 else min(requested, MAX_LIST)


def _timestamp(moment: dt.datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _to(wrapper: Any, prefix: str, member: enum.Enum | None) -> Any:
    return 0 if member is None else wrapper.Value(prefix + member.name)


def _deadline(kind: DeadlineKind, due: dt.datetime, met_at: dt.datetime | None) -> Any:
    return ipb.ServiceDeadline(
        kind=_to(ipb.ServiceDeadlineKind, "SERVICE_DEADLINE_KIND_", kind),
        due=_timestamp(due),
        met_at=_timestamp(met_at),
    )


def _breach(breach: Breach) -> ipb.ServiceBreach:
    return ipb.ServiceBreach(
        kind=_to(ipb.ServiceDeadlineKind, "SERVICE_DEADLINE_KIND_", breach.kind),
        due=_timestamp(breach.due),
        priority=_to(ipb.IncidentPriority, "INCIDENT_PRIORITY_", breach.priority),
        recorded_at=_timestamp(breach.recorded_at),
    )


def incident_to_proto(incident: Incident) -> ipb.Incident:
    assert incident.deadlines is not None
    reporter = incident.reporter
    return ipb.Incident(
        incident_id=str(incident.id),
        status=_to(ipb.IncidentStatus, "INCIDENT_STATUS_", incident.status),
        priority=_to(ipb.IncidentPriority, "INCIDENT_PRIORITY_", incident.priority),
        impact=_to(ipb.IncidentImpact, "INCIDENT_IMPACT_", incident.impact),
        reporter=ipb.IncidentReporter(
            organisation_number=reporter.organisation_number,
            reference=reporter.reference,
            monitoring=reporter.kind is ReporterKind.MONITORING,
        ),
        providers=[provider_to_proto(p) for p in incident.providers],
        registered_at=_timestamp(incident.registered_at),
        response=_deadline(
            DeadlineKind.RESPONSE, incident.deadlines.response_due, incident.responded_at
        ),
        resolution=_deadline(
            DeadlineKind.RESOLUTION, incident.deadlines.resolution_due, incident.resolved_at
        ),
        reported_back_at=_timestamp(incident.reported_back_at),
        breaches=[_breach(b) for b in incident.breaches],
        condition=_to(ipb.IncidentCondition, "INCIDENT_CONDITION_", incident.condition),
        condition_active=incident.condition_active,
        condition_cleared_at=_timestamp(incident.condition_cleared_at),
        recurrences=incident.recurrences,
        evidence_query_ids=[str(q) for q in incident.evidence_query_ids],
    )


def problem_to_proto(problem: Problem) -> ipb.Problem:
    assert problem.deadlines is not None
    return ipb.Problem(
        problem_id=str(problem.id),
        status=_to(ipb.ProblemStatus, "PROBLEM_STATUS_", problem.status),
        priority=_to(ipb.IncidentPriority, "INCIDENT_PRIORITY_", problem.priority),
        incident_ids=[str(i) for i in problem.incident_ids],
        registered_at=_timestamp(problem.registered_at),
        response=_deadline(
            DeadlineKind.RESPONSE, problem.deadlines.response_due, problem.responded_at
        ),
        resolution=_deadline(
            DeadlineKind.RESOLUTION, problem.deadlines.resolution_due, problem.resolved_at
        ),
        breaches=[_breach(b) for b in problem.breaches],
        known_error=problem.known_error,
        workaround_available=problem.workaround_available,
    )


def _party(party: Party) -> epb.DisputeParty:
    return epb.DisputeParty(
        organisation_number=f"{party.organisation_number[:6]}-{party.organisation_number[6:]}",
        role=_to(epb.DisputePartyRole, "DISPUTE_PARTY_ROLE_", party.role),
    )


def _actor(acting: Acting | None) -> epb.DisputeActor | None:
    if acting is None:
        return None
    return epb.DisputeActor(
        party=_party(acting.party),
        on_behalf_of=_party(acting.on_behalf_of) if acting.on_behalf_of else None,
        power_of_attorney=acting.power_of_attorney,
    )


def escalation_to_proto(escalation: Escalation) -> epb.Escalation:
    by_number = {p.organisation_number: p for p in escalation.parties}
    return epb.Escalation(
        escalation_id=str(escalation.id),
        stage=_to(epb.DisputeStage, "DISPUTE_STAGE_", escalation.stage),
        forum=_to(epb.DisputeForum, "DISPUTE_FORUM_", escalation.forum),
        level=escalation.level,
        raised_by=_actor(escalation.raised_by),
        parties=[_party(p) for p in escalation.parties],
        subject=escalation.subject,
        views=[
            epb.PartyView(party=_party(by_number[number]), view=view)
            for number, view in escalation.views.items()
            if number in by_number
        ],
        missing_views=[_party(p) for p in escalation.missing_views],
        recommendations=list(escalation.recommendations),
        material=list(escalation.material),
        outcome=escalation.outcome,
        raised_at=_timestamp(escalation.created_on),
        changed_at=_timestamp(escalation.modified_on),
    )
