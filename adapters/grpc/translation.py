"""Translation between the public protobuf messages and the application's types.

Requests become ``QueryCommand``s of primitives without judging them (the rules live
in ``application.validation``); answers become messages field by field, unaltered.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from google.type.date_pb2 import Date

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.provider_data_translation import record_to_proto
from application.commands import PeriodCommand, ProviderSelectionCommand, QueryCommand
from application.queries import ProviderDescription, ProviderStatus
from domain.providers import Provider
from domain.query.answer import CompiledAnswer, ProtectedIdentityNotice, ProviderPart
from domain.query.values import OutcomeKind

PROTECTED_IDENTITY_TEXT = (
    "Särskild sekretessmarkering: the subject has a protected identity (003 § 1.3). "
    "Handle every part of this answer with particular care."
)


QueryRequest = pb.SubmitQueryRequest | pb.StreamQueryRequest
"""The two request messages share their fields."""


def _enum_name(name_of: object, value: int, prefix: str) -> str:
    """``PURPOSE_FINANCIAL_ASSISTANCE_CASE`` -> ``FINANCIAL_ASSISTANCE_CASE``; 0 -> ``""``."""
    if value == 0:
        return ""
    try:
        name: str = name_of(value)  # type: ignore[operator]
    except ValueError:
        return f"UNKNOWN_{value}"
    return name.removeprefix(prefix)


def _date_parts(date: Date) -> tuple[int, int, int]:
    return date.year, date.month, date.day


def _period(message: pb.Period) -> PeriodCommand:
    return PeriodCommand(_date_parts(message.start), _date_parts(message.end))


def query_command(
    request: QueryRequest, *, authenticated_organisation: str | None = None
) -> QueryCommand:
    return QueryCommand(
        authenticated_organisation=authenticated_organisation,
        client_request_id=request.client_request_id,
        organisation_number=request.asking_organisation.organisation_number,
        organisation_name=request.asking_organisation.name,
        caseworker_id=request.caseworker_id,
        case_id=request.case_id,
        purpose=_enum_name(pb.Purpose.Name, request.purpose, "PURPOSE_"),
        legal_basis=_enum_name(pb.LegalBasis.Name, request.legal_basis, "LEGAL_BASIS_"),
        period=_period(request.period) if request.HasField("period") else None,
        subjects=tuple(request.subjects),
        providers=tuple(
            ProviderSelectionCommand(
                provider=_enum_name(pb.Provider.Name, selection.provider, "PROVIDER_"),
                period=_period(selection.period) if selection.HasField("period") else None,
            )
            for selection in request.providers
        ),
    )


def provider_to_proto(provider: Provider) -> pb.Provider.ValueType:
    return pb.Provider.Value(f"PROVIDER_{provider.value}")


def provider_from_proto(value: int) -> Provider | None:
    name = _enum_name(pb.Provider.Name, value, "PROVIDER_")
    return Provider[name] if name in Provider.__members__ else None


def _duration_ms(milliseconds: int) -> Duration:
    duration = Duration()
    duration.FromMilliseconds(milliseconds)
    return duration


def _timestamp(moment: dt.datetime) -> Timestamp:
    timestamp = Timestamp()
    timestamp.FromDatetime(moment)
    return timestamp


def part_to_proto(part: ProviderPart) -> pb.ProviderPart:
    message = pb.ProviderPart(
        provider=provider_to_proto(part.provider),
        outcome=pb.OutcomeKind.Value(f"OUTCOME_KIND_{part.kind.value}"),
        latency=_duration_ms(part.latency_ms),
        subject_index=part.subject_index,
        subject=part.subject.digits,
    )
    if part.record is not None:
        message.data.CopyFrom(record_to_proto(part.record))
    if part.error is not None:
        message.error.CopyFrom(
            pb.ProviderError(
                source=pb.ErrorSource.Value(f"ERROR_SOURCE_{part.error.source.value}"),
                code=part.error.code,
                message=part.error.message,
            )
        )
    return message


def _notice_to_proto(notice: ProtectedIdentityNotice) -> pb.ProtectedIdentityNotice:
    return pb.ProtectedIdentityNotice(
        subject_index=notice.subject_index,
        subject=notice.subject.digits,
        flagged_by=[provider_to_proto(p) for p in notice.flagged_by],
        text=PROTECTED_IDENTITY_TEXT,
    )


def summary_to_proto(answer: CompiledAnswer) -> pb.Summary:
    kinds = [part.kind for part in answer.parts]
    elapsed = answer.compiled_at - answer.received_at
    return pb.Summary(
        query_id=str(answer.query_id),
        subject_count=len(answer.subjects),
        answered=kinds.count(OutcomeKind.ANSWERED),
        no_data=kinds.count(OutcomeKind.NO_DATA),
        errors=kinds.count(OutcomeKind.ERROR),
        closed=kinds.count(OutcomeKind.CLOSED),
        not_entitled=kinds.count(OutcomeKind.NOT_ENTITLED),
        provider_not_connected=kinds.count(OutcomeKind.PROVIDER_NOT_CONNECTED),
        provider_stopped=kinds.count(OutcomeKind.PROVIDER_STOPPED),
        protected_identity_notices=[_notice_to_proto(n) for n in answer.notices],
        received_at=_timestamp(answer.received_at),
        compiled_at=_timestamp(answer.compiled_at),
        elapsed=_duration_ms(round(elapsed.total_seconds() * 1000)),
    )


def answer_to_proto(answer: CompiledAnswer) -> pb.Answer:
    notices = {notice.subject_index: notice for notice in answer.notices}
    subjects = []
    for index, subject in enumerate(answer.subjects):
        message = pb.SubjectAnswer(
            subject=subject.digits,
            parts=[part_to_proto(part) for part in answer.parts_for(index)],
        )
        if index in notices:
            message.protected_identity.CopyFrom(_notice_to_proto(notices[index]))
        subjects.append(message)
    return pb.Answer(
        query_id=str(answer.query_id), subjects=subjects, summary=summary_to_proto(answer)
    )


def status_to_proto(status: ProviderStatus) -> pb.ProviderStatus:
    message = pb.ProviderStatus(
        provider=provider_to_proto(status.health.provider),
        reachable=status.health.reachable,
        open_now=status.open_now,
        latency=_duration_ms(status.health.latency_ms),
        detail=status.health.detail,
        breaker=pb.BreakerState.Value(f"BREAKER_STATE_{status.breaker.value}"),
        calls_in_progress=status.calls_in_progress,
        call_limit=status.call_limit,
    )
    if status.unavailable_since is not None:
        message.unavailable_since.CopyFrom(_timestamp(status.unavailable_since))
    return message


def description_to_proto(description: ProviderDescription) -> pb.ProviderDescription:
    profile = description.profile
    return pb.ProviderDescription(
        provider=provider_to_proto(profile.provider),
        name=profile.name,
        data_kinds=list(profile.data_kinds),
        legal_basis=list(profile.legal_basis),
        opening_hours=profile.opening_hours.description,
        open_now=description.open_now,
    )
