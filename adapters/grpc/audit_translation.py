"""Translation between the audit service's protobuf messages and the audit use cases.

Invalid fields are collected and reported together (``INVALID_ARGUMENT`` naming each field,
never its value).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf import struct_pb2

from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as pb
from application.audit.replay import ReplayedEvent, ReplayFilter
from application.audit.report_model import Month
from application.audit.verdict import AuditVerdict, ChainBreak, ChainVerdict, SealAnchor
from application.errors import InvalidRequestError
from domain.errors import FieldViolation, InvalidValueError
from domain.identity import OrganisationNumber


def replay_filter(request: pb.ReplayEventsRequest) -> tuple[ReplayFilter, dict[str, int]]:
    """The filter and the resume positions a replay request asks for."""
    violations: list[FieldViolation] = []
    organisations = set()
    for index, number in enumerate(request.asking_organisations):
        try:
            organisations.add(OrganisationNumber.parse(number).digits)
        except InvalidValueError:
            violations.append(
                FieldViolation(f"asking_organisations[{index}]", "is not an organisation number")
            )
    callers = set()
    for index, number in enumerate(request.callers):
        try:
            callers.add(OrganisationNumber.parse(number).digits)
        except InvalidValueError:
            violations.append(FieldViolation(f"callers[{index}]", "is not an organisation number"))
    since = request.since.ToDatetime(tzinfo=dt.UTC) if request.HasField("since") else None
    until = request.until.ToDatetime(tzinfo=dt.UTC) if request.HasField("until") else None
    if since is not None and until is not None and until <= since:
        violations.append(FieldViolation("until", "must be after since"))
    if violations:
        raise InvalidRequestError(violations)
    chosen = ReplayFilter(
        applications=frozenset(request.applications),
        aggregate_types=frozenset(request.aggregate_types),
        event_types=frozenset(request.event_types),
        since=since,
        until=until,
        asking_organisations=frozenset(organisations),
        callers=frozenset(callers),
    )
    return chosen, dict(request.after_positions)


def event_to_proto(event: ReplayedEvent) -> pb.ReplayedEvent:
    message = pb.ReplayedEvent(
        application=event.application,
        position=event.position,
        topic=event.topic,
        originator_id=event.originator_id,
        originator_version=event.originator_version,
        state_json=event.state,
    )
    if event.timestamp is not None:
        message.timestamp.FromDatetime(event.timestamp)
    return message


def anchors_from_proto(anchors: Any) -> list[SealAnchor]:
    return [
        SealAnchor(a.application, a.sequence, a.last_position, a.seal_hash.lower()) for a in anchors
    ]


def _anchor(anchor: SealAnchor | None) -> pb.SealAnchor | None:
    if anchor is None:
        return None
    return pb.SealAnchor(
        application=anchor.application,
        sequence=anchor.sequence,
        last_position=anchor.last_position,
        seal_hash=anchor.seal_hash,
    )


def _break(found: ChainBreak | None) -> pb.ChainBreak | None:
    if found is None:
        return None
    return pb.ChainBreak(
        application=found.application,
        position=found.position,
        kind=pb.BreakKind.Value(f"BREAK_KIND_{found.kind.value}"),
        detail=found.detail,
    )


def _chain(verdict: ChainVerdict) -> pb.ChainVerdict:
    return pb.ChainVerdict(
        application=verdict.application,
        intact=verdict.intact,
        events=verdict.events,
        last_position=verdict.last_position,
        seals=verdict.seals,
        sealed_through=verdict.sealed_through,
        unsealed_events=verdict.unsealed,
        first_break=_break(verdict.first_break),
        breaks=[b for b in map(_break, verdict.breaks) if b is not None],
        unlisted_breaks=verdict.unlisted_breaks,
        latest_seal=_anchor(verdict.latest_seal),
        head_digest=verdict.head_digest,
    )


def verdict_to_proto(verdict: AuditVerdict) -> pb.VerifyChainResponse:
    return pb.VerifyChainResponse(
        intact=verdict.intact,
        first_break=_break(verdict.first_break),
        chains=[_chain(chain) for chain in verdict.chains],
    )


def month_from_proto(request: pb.GetReportRequest) -> Month:
    violations = []
    if not 2000 <= request.year <= 9999:
        violations.append(FieldViolation("year", "must be a year from 2000"))
    if not 1 <= request.month <= 12:
        violations.append(FieldViolation("month", "must be 1 to 12"))
    if violations:
        raise InvalidRequestError(violations)
    return Month(request.year, request.month)


def struct_of(document: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(document)
    return message
