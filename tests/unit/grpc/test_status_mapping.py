from __future__ import annotations

from google.rpc import code_pb2, error_details_pb2

from adapters.grpc.status import status_for
from application.errors import (
    AuditUnavailableError,
    ConflictError,
    DuplicateQueryError,
    InvalidQueryError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
)
from domain.errors import FieldViolation


def test_invalid_input_maps_to_invalid_argument_with_one_field_violation_per_field() -> None:
    status = status_for(
        InvalidQueryError(
            [
                FieldViolation("subjects[2]", "has a wrong check digit"),
                FieldViolation("case_id", "is required"),
            ]
        )
    )
    assert status.code == code_pb2.INVALID_ARGUMENT
    (detail,) = status.details
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
    assert status_for(DuplicateQueryError()).code == code_pb2.ALREADY_EXISTS
    unavailable = status_for(AuditUnavailableError())
    assert unavailable.code == code_pb2.UNAVAILABLE
    retry = error_details_pb2.RetryInfo()
    assert unavailable.details[0].Unpack(retry)
    assert retry.retry_delay.seconds == 1


def test_an_unexpected_error_is_internal_and_never_repeats_its_message() -> None:
    status = status_for(RuntimeError("lookup failed for 19121212-1212"))
    assert status.code == code_pb2.INTERNAL
    assert "1212" not in status.message
    assert not status.details


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
