"""Translation between the incident and escalation messages and the domain's types.

Requests are read field by field with ``adapters.grpc.fields.Fields``; every broken field is
collected and reported at once (``InvalidRequestError``, ``INVALID_ARGUMENT`` with a
``BadRequest`` naming the fields), never echoing a value. Unknown enum values are refused,
not mapped (ADR 0005). ``ServiceManagementFields`` adds the readers of these messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from typing import Any, Protocol, TypeVar
from uuid import UUID

from google.protobuf.timestamp_pb2 import Timestamp

from adapters.grpc import paging
from adapters.grpc.fields import Fields
from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2 as epb
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as ipb
from adapters.grpc.translation import provider_to_proto
from application.registrations import Page
from domain.clauses import RuleBrokenError
from domain.escalation.aggregate import Escalation
from domain.escalation.values import Acting, Forum, Party
from domain.incident.case import ServiceLevelCase
from domain.incident.incident import Incident
from domain.incident.problem import Problem
from domain.incident.reporter import Reporter, ReporterKind
from domain.incident.service_levels import Breach, DeadlineKind, Priority
from domain.party.values import PartyRole

MAX_LIST = 500
T = TypeVar("T")


class ServiceManagementFields(Fields):
    """``Fields`` with the readers of the incident and escalation messages."""

    def priority(self, field: str, value: int, *, required: bool) -> Priority | None:
        return self.enum(
            field,
            ipb.IncidentPriority.Name,
            value,
            "INCIDENT_PRIORITY_",
            Priority,
            required=required,
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
            epb.DisputePartyRole.Name,
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
        return self.enum(
            field, epb.DisputeForum.Name, value, "DISPUTE_FORUM_", Forum, required=required
        )


def one_uuid(field: str, text: str) -> UUID:
    """The one id a request names, or ``INVALID_ARGUMENT`` naming the field."""
    fields = Fields()
    found = fields.uuid(field, text)
    fields.done()
    return found


def limit(requested: int) -> int:
    return MAX_LIST if requested <= 0 else min(requested, MAX_LIST)


class ListRequest(Protocol):
    """A list call's request: a filter, a page token and a page size."""

    @property
    def open_only(self) -> bool: ...
    @property
    def page_token(self) -> str: ...
    @property
    def limit(self) -> int: ...


class PageLoader(Protocol[T]):
    def __call__(self, *, open_only: bool, limit: int, before: int | None) -> Page[T]: ...


async def filtered_page(
    list_name: str, request: ListRequest, load: PageLoader[T]
) -> tuple[list[T], str]:
    """One page of a list with the ``open_only`` filter (in a worker thread: the store is
    synchronous), and the token of the next page (empty on the last)."""
    open_only = request.open_only
    before = paging.decode(request.page_token, list_name, open_only=open_only)
    page = await asyncio.to_thread(
        load, open_only=open_only, limit=limit(request.limit), before=before
    )
    return page.items, paging.encode(list_name, page.next_before, open_only=open_only)


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


def _service_levels(case: ServiceLevelCase) -> dict[str, Any]:
    """The fields an ``Incident`` and a ``Problem`` message share: the priority, the
    registration, both deadlines and the breaches."""
    assert case.deadlines is not None
    return {
        "priority": _to(ipb.IncidentPriority, "INCIDENT_PRIORITY_", case.priority),
        "registered_at": _timestamp(case.registered_at),
        "response": _deadline(
            DeadlineKind.RESPONSE, case.deadlines.response_due, case.responded_at
        ),
        "resolution": _deadline(
            DeadlineKind.RESOLUTION, case.deadlines.resolution_due, case.resolved_at
        ),
        "breaches": [_breach(b) for b in case.breaches],
    }


def incident_to_proto(incident: Incident) -> ipb.Incident:
    reporter = incident.reporter
    return ipb.Incident(
        incident_id=str(incident.id),
        status=_to(ipb.IncidentStatus, "INCIDENT_STATUS_", incident.status),
        impact=_to(ipb.IncidentImpact, "INCIDENT_IMPACT_", incident.impact),
        reporter=ipb.IncidentReporter(
            organisation_number=reporter.organisation_number,
            reference=reporter.reference,
            monitoring=reporter.kind is ReporterKind.MONITORING,
        ),
        providers=[provider_to_proto(p) for p in incident.providers],
        reported_back_at=_timestamp(incident.reported_back_at),
        **_service_levels(incident),
        condition=_to(ipb.IncidentCondition, "INCIDENT_CONDITION_", incident.condition),
        condition_active=incident.condition_active,
        condition_cleared_at=_timestamp(incident.condition_cleared_at),
        recurrences=incident.recurrences,
        evidence_query_ids=[str(q) for q in incident.evidence_query_ids],
    )


def problem_to_proto(problem: Problem) -> ipb.Problem:
    return ipb.Problem(
        problem_id=str(problem.id),
        status=_to(ipb.ProblemStatus, "PROBLEM_STATUS_", problem.status),
        incident_ids=[str(i) for i in problem.incident_ids],
        **_service_levels(problem),
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
