from __future__ import annotations

import datetime as dt
import uuid

import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2

from adapters.grpc.generated.ssbtek.v1 import errors_pb2
from adapters.grpc.status import status_for
from application.errors import (
    AuditUnavailableError,
    ConflictError,
    DeadlineExceededError,
    DuplicateQueryError,
    InvalidRequestError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    QueryInProgressError,
    RuleViolationError,
)
from domain.errors import FieldViolation
from domain.query.aggregate import QueryStatus, RejectionReason


def test_invalid_input_maps_to_invalid_argument_with_one_field_violation_per_field() -> None:
    status = status_for(
        InvalidRequestError(
            [
                FieldViolation("subjects[2]", "has a wrong check digit"),
                FieldViolation("case_id", "is required"),
            ]
        )
    )
    assert status.code == code_pb2.INVALID_ARGUMENT
    detail, _ = status.details
    bad_request = error_details_pb2.BadRequest()
    assert detail.Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("subjects[2]", "subjects[2] has a wrong check digit"),
        ("case_id", "case_id is required"),
    ]
    assert status.message == "invalid request: subjects[2], case_id"


def test_a_duplicate_maps_to_already_exists_and_a_lost_audit_to_unavailable_with_retry_info() -> (
    None
):
    assert status_for(DuplicateQueryError(uuid.uuid4())).code == code_pb2.ALREADY_EXISTS
    unavailable = status_for(AuditUnavailableError())
    assert unavailable.code == code_pb2.UNAVAILABLE
    retry = error_details_pb2.RetryInfo()
    assert unavailable.details[0].Unpack(retry)
    assert retry.retry_delay.seconds == 1


def test_an_unexpected_error_is_internal_and_never_repeats_its_message() -> None:
    status = status_for(RuntimeError("lookup failed for 19121212-1212"))
    assert status.code == code_pb2.INTERNAL
    assert "1212" not in status.message
    assert _error_info(status).reason == "INTERNAL"
    assert len(status.details) == 1


def test_rule_not_found_conflict_and_permission_map_to_their_codes_with_details() -> None:
    rule = status_for(
        RuleViolationError("notice must be given six months before year end", "004 § 17.1")
    )
    assert rule.code == code_pb2.FAILED_PRECONDITION
    assert rule.message == "notice must be given six months before year end (004 § 17.1)"
    failure = error_details_pb2.PreconditionFailure()
    assert rule.details[0].Unpack(failure)
    assert failure.violations[0].subject == "004 § 17.1"
    assert status_for(NotFoundError("party")).code == code_pb2.NOT_FOUND
    assert status_for(ConflictError()).code == code_pb2.ABORTED
    denied = status_for(PermissionDeniedError("CASEWORKER_REVOKED"))
    assert denied.code == code_pb2.PERMISSION_DENIED
    info = error_details_pb2.ErrorInfo()
    assert denied.details[0].Unpack(info)
    assert info.reason == "CASEWORKER_REVOKED"


def _error_info(status: status_pb2.Status) -> error_details_pb2.ErrorInfo:
    infos = [d for d in status.details if d.TypeName() == "google.rpc.ErrorInfo"]
    assert len(infos) == 1, "every error status carries exactly one ErrorInfo"
    info = error_details_pb2.ErrorInfo()
    infos[0].Unpack(info)
    return info


_REASONS = set(errors_pb2.ErrorReason.keys())
_REFUSALS = [r.value for r in RejectionReason if r.value not in ("INVALID_ARGUMENT",)]
_ERRORS: list[Exception] = [
    InvalidRequestError([FieldViolation("case_id", "is required")]),
    DuplicateQueryError(uuid.uuid4()),
    RuleViolationError("a rule", "004 § 9"),
    NotFoundError("party"),
    ConflictError(),
    OverloadedError("TOO_MANY_QUERIES_IN_FLIGHT"),
    OverloadedError("ORGANISATION_RATE_LIMIT"),
    AuditUnavailableError(),
    DeadlineExceededError(),
    QueryInProgressError(uuid.uuid4(), 2.5),
    RuntimeError("boom"),
    PermissionDeniedError("NOT_AN_AUDITOR"),
    PermissionDeniedError("ADMINISTRATORS_ONLY"),
    *(PermissionDeniedError(reason) for reason in _REFUSALS if reason != "DUPLICATE_REQUEST"),
]


@pytest.mark.parametrize("error", _ERRORS, ids=lambda e: f"{type(e).__name__}-{e}")
def test_every_error_status_carries_an_error_info_whose_reason_the_contract_enumerates(
    error: Exception,
) -> None:
    info = _error_info(status_for(error))
    assert info.domain == "ssbtek.se"
    assert info.reason in _REASONS
    assert info.reason != "ERROR_REASON_UNSPECIFIED"


def test_every_refusal_the_query_service_records_is_a_reason_of_the_contract() -> None:
    assert set(_REFUSALS) <= _REASONS


def test_a_duplicate_names_the_first_query_its_received_time_and_state() -> None:
    query_id = uuid.uuid4()
    received_at = dt.datetime(2026, 5, 4, 8, 30, 15, 250000, tzinfo=dt.UTC)
    status = status_for(DuplicateQueryError(query_id, received_at, QueryStatus.ERASED.value))
    assert status.code == code_pb2.ALREADY_EXISTS
    detail = errors_pb2.QueryAlreadyReceived()
    assert status.details[0].Unpack(detail)
    assert detail.query_id == str(query_id)
    assert detail.received_at.ToDatetime(dt.UTC) == received_at
    assert detail.state == errors_pb2.QUERY_STATE_ERASED
    info = _error_info(status)
    assert info.reason == "DUPLICATE_REQUEST"
    assert dict(info.metadata) == {
        "query_id": str(query_id),
        "received_at": "2026-05-04T08:30:15.250Z",
        "state": "ERASED",
    }


def test_every_query_status_has_its_query_state_in_the_contract() -> None:
    for state in QueryStatus:
        assert f"QUERY_STATE_{state.value}" in set(errors_pb2.QueryState.keys())


def test_a_duplicate_of_an_answered_query_says_when_its_answer_was_delivered() -> None:
    query_id = uuid.uuid4()
    received_at = dt.datetime(2026, 5, 4, 8, 30, 15, tzinfo=dt.UTC)
    delivered_at = dt.datetime(2026, 5, 4, 8, 30, 17, 500000, tzinfo=dt.UTC)
    status = status_for(
        DuplicateQueryError(query_id, received_at, QueryStatus.ERASED.value, delivered_at)
    )
    detail = errors_pb2.QueryAlreadyReceived()
    assert status.details[0].Unpack(detail)
    assert detail.delivered_at.ToDatetime(dt.UTC) == delivered_at
    info = _error_info(status)
    assert info.metadata["query_id"] == str(query_id)
    assert info.metadata["delivered_at"] == "2026-05-04T08:30:17.500Z"


def test_a_retry_while_the_first_call_may_still_answer_is_aborted_with_when_to_retry() -> None:
    query_id = uuid.uuid4()
    status = status_for(QueryInProgressError(query_id, 4.2))
    assert status.code == code_pb2.ABORTED
    retry = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(retry)
    assert retry.retry_delay.ToMilliseconds() == 4200
    info = _error_info(status)
    assert info.reason == "QUERY_IN_PROGRESS"
    assert info.metadata["query_id"] == str(query_id)


def test_an_admission_refusal_carries_the_measured_wait_its_quota_and_the_limit() -> None:
    status = status_for(
        OverloadedError(
            "TOO_MANY_QUERIES_IN_FLIGHT", retry_after_s=0.37, quota="ORGANISATION_SHARE", limit=42
        )
    )
    assert status.code == code_pb2.RESOURCE_EXHAUSTED
    quota, retry, info = (
        error_details_pb2.QuotaFailure(),
        error_details_pb2.RetryInfo(),
        error_details_pb2.ErrorInfo(),
    )
    assert [status.details[0].Unpack(quota), status.details[1].Unpack(retry)] == [True, True]
    assert status.details[2].Unpack(info)
    assert quota.violations[0].subject == "ORGANISATION_SHARE"
    assert retry.retry_delay.ToMilliseconds() == 370
    assert info.reason == "TOO_MANY_QUERIES_IN_FLIGHT"
    assert dict(info.metadata) == {"quota": "ORGANISATION_SHARE", "limit": "42"}
    rate_limited = status_for(OverloadedError("ORGANISATION_RATE_LIMIT"))
    assert rate_limited.details[1].Unpack(retry)
    assert retry.retry_delay.ToMilliseconds() == 1000  # nothing measured: one second
