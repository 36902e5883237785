"""One place that maps application errors to gRPC statuses, and logs each call.

``ReportedCalls`` is the server's outermost interceptor (``adapters/grpc/server.py``): every
call of every service passes through ``reported``, so a servicer raises the application's
errors and never builds a status itself.

Messages and details name fields and rules, never values: nothing personal is echoed.
Unexpected exceptions become ``INTERNAL`` with a generic message; only the exception
type is logged, since an exception's text may hold personal data. The access log
line names the method (its full gRPC name, ``/ssbtek.v1.QueryService/SubmitQuery``), the
status code and the duration, nothing from the request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Final, NoReturn

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from adapters.grpc.generated.ssbtek.v1 import errors_pb2
from adapters.grpc.interceptors import Context, Handler, MethodInterceptor, wrap
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

log = logging.getLogger(__name__)
access_log = logging.getLogger("ssbtek.access")


DOMAIN: Final = "ssbtek.se"
"""The ``google.rpc.ErrorInfo.domain`` of every error status."""


def _status(
    code: int, message: str, *details: Message, reason: str, **metadata: str
) -> status_pb2.Status:
    """A status with its details, then the ErrorInfo every error status carries (errors.proto).

    ``reason`` is the name of an ``ssbtek.v1.ErrorReason`` value; a test holds the two equal.
    """
    status = status_pb2.Status(code=code, message=message)
    info = error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata)
    for detail in (*details, info):
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return status


def _already_received(error: DuplicateQueryError) -> status_pb2.Status:
    """ALREADY_EXISTS naming the first query: a typed detail, and the same as metadata."""
    detail = errors_pb2.QueryAlreadyReceived(query_id=str(error.query_id))
    metadata = {"query_id": str(error.query_id)}
    if error.received_at is not None:
        detail.received_at.FromDatetime(error.received_at)
        metadata["received_at"] = detail.received_at.ToJsonString()
    if error.state is not None:
        detail.state = errors_pb2.QueryState.Value(f"QUERY_STATE_{error.state}")
        metadata["state"] = error.state
    if error.delivered_at is not None:
        detail.delivered_at.FromDatetime(error.delivered_at)
        metadata["delivered_at"] = detail.delivered_at.ToJsonString()
    return _status(
        code_pb2.ALREADY_EXISTS, str(error), detail, reason="DUPLICATE_REQUEST", **metadata
    )


def _retry_after(milliseconds: int) -> error_details_pb2.RetryInfo:
    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.FromMilliseconds(milliseconds)
    return retry


def unauthenticated(reason: str) -> status_pb2.Status:
    """UNAUTHENTICATED for ``reason``: the client certificate proves no caller (ADR 24)."""
    return _status(code_pb2.UNAUTHENTICATED, f"unauthenticated: {reason}", reason=reason)


def overloaded(error: OverloadedError) -> status_pb2.Status:
    """RESOURCE_EXHAUSTED: QuotaFailure naming the limit, RetryInfo (the measured wait, ADR 26;
    one second when none was measured), ErrorInfo with the quota and the limit's size."""
    violation = error_details_pb2.QuotaFailure.Violation(
        subject=error.quota, description=error.reason
    )
    metadata = {"quota": error.quota} if error.quota else {}
    if error.limit is not None:
        metadata["limit"] = str(error.limit)
    wait_ms = 1000 if error.retry_after_s is None else max(1, round(error.retry_after_s * 1000))
    return _status(
        code_pb2.RESOURCE_EXHAUSTED,
        str(error),
        error_details_pb2.QuotaFailure(violations=[violation]),
        _retry_after(wait_ms),
        reason=error.reason,
        **metadata,
    )


def status_for(error: Exception) -> status_pb2.Status:
    """The gRPC status (with google.rpc details) that reports ``error`` to the caller."""
    if isinstance(error, InvalidRequestError):
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=f"{v.field} {v.description}"
                )
                for v in error.violations
            ]
        )
        fields = ", ".join(v.field for v in error.violations)
        return _status(
            code_pb2.INVALID_ARGUMENT,
            f"invalid request: {fields}",
            bad_request,
            reason="INVALID_ARGUMENT",
        )
    if isinstance(error, DuplicateQueryError):
        return _already_received(error)
    if isinstance(error, RuleViolationError):
        failure = error_details_pb2.PreconditionFailure(
            violations=[
                error_details_pb2.PreconditionFailure.Violation(
                    type="AGREEMENT_RULE", subject=error.clause, description=error.rule
                )
            ]
        )
        return _status(code_pb2.FAILED_PRECONDITION, str(error), failure, reason="AGREEMENT_RULE")
    if isinstance(error, NotFoundError):
        return _status(code_pb2.NOT_FOUND, str(error), reason="NOT_FOUND", kind=error.kind)
    if isinstance(error, QueryInProgressError):
        return _status(
            code_pb2.ABORTED,
            str(error),
            _retry_after(max(1, round(error.retry_after_s * 1000))),
            reason="QUERY_IN_PROGRESS",
            query_id=str(error.query_id),
        )
    if isinstance(error, ConflictError):
        return _status(code_pb2.ABORTED, str(error), reason="CONCURRENT_CHANGE")
    if isinstance(error, OverloadedError):
        return overloaded(error)
    if isinstance(error, PermissionDeniedError):
        message = f"permission denied: {error.reason}"
        return _status(code_pb2.PERMISSION_DENIED, message, reason=error.reason)
    if isinstance(error, DeadlineExceededError):
        return _status(code_pb2.DEADLINE_EXCEEDED, str(error), reason="DEADLINE_PASSED")
    if isinstance(error, AuditUnavailableError):
        return _status(
            code_pb2.UNAVAILABLE, str(error), _retry_after(1000), reason="AUDIT_UNAVAILABLE"
        )
    return _status(code_pb2.INTERNAL, "the service failed to handle the request", reason="INTERNAL")


async def _abort(context: Context, error: Exception) -> NoReturn:
    status = status_for(error)
    if status.code == code_pb2.INTERNAL:
        log.error("unhandled %s in a request handler", type(error).__name__)
    await context.abort_with_status(rpc_status.to_status(status))
    raise AssertionError("abort_with_status raises")  # pragma: no cover


@asynccontextmanager
async def reported(method: str, context: Context) -> AsyncIterator[None]:
    """Turn any error into a status (``abort`` passes through) and log the call once.

    A call its client cancelled, or whose deadline passed, is logged as ``CANCELLED`` or
    ``DEADLINE_EXCEEDED`` (gRPC cancels the handler then), never as ``OK``.
    """
    started = time.monotonic()
    gone: str | None = None
    try:
        yield
    except grpc.aio.AbortError:
        raise
    except asyncio.CancelledError:
        remaining = context.time_remaining()
        gone = "DEADLINE_EXCEEDED" if remaining is not None and remaining <= 0 else "CANCELLED"
        raise
    except Exception as error:
        await _abort(context, error)
    finally:
        code = context.code() or grpc.StatusCode.OK
        name = gone or (code.name if isinstance(code, grpc.StatusCode) else str(code))
        elapsed_ms = round((time.monotonic() - started) * 1000)
        access_log.info(
            "%s %s %d ms",
            method,
            name,
            elapsed_ms,
            extra={"method": method, "code": name, "duration_ms": elapsed_ms},
        )


class ReportedCalls(MethodInterceptor):
    """The outermost interceptor: every call's errors as statuses, and its access-log line.

    Whatever an inner interceptor or a handler raises (an application error, or anything
    unexpected) becomes its status here; a refusal by ``abort`` passes through with its
    own status. Either way the call gets one ``ssbtek.access`` line with its true code.
    """

    def wrap_method(self, method: str, handler: Handler) -> Handler:
        return wrap(handler, around=partial(reported, method))
