"""L1: a bare fan-out proxy over the same eight simulated base services.

For every subject it calls every provider's ``fetch`` at once (one task each), waits
for all, and compiles the same ``SubmitQueryResponse`` the service sends, with the
service's own translation code. What it leaves out is the service's work: no
validation (identity numbers and the period are taken as given), no query id, no
audit events, no store, no access log. Like the service, it does not call a provider
outside its opening hours (Transportstyrelsen) and reports it ``CLOSED``, so both do
the same provider work at any time of day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Mapping

import grpc
from google.type.date_pb2 import Date

from adapters.grpc import translation
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from application.ports import BaseService
from domain.identity import PersonalIdentityNumber
from domain.providers import PROFILES, Provider
from domain.query.answer import CompiledAnswer, PartError, ProviderPart, notices_for
from domain.query.values import ErrorSource, OutcomeKind, Period

BUDGET_S = 5.6


def _date(message: Date) -> dt.date:
    return dt.date(message.year, message.month, message.day)


class FanOutProxy:
    """Calls every provider about every subject and compiles one answer."""

    def __init__(self, base_services: Mapping[Provider, BaseService]) -> None:
        self._base_services = dict(base_services)

    async def _part(
        self, provider: Provider, index: int, subject: PersonalIdentityNumber, period: Period
    ) -> ProviderPart:
        started = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(BUDGET_S):
                answer = await self._base_services[provider].fetch(subject, period)
        except Exception:
            latency_ms = round((asyncio.get_running_loop().time() - started) * 1000)
            error = PartError(ErrorSource.SSBT, "INTERNAL", "the base service failed")
            return ProviderPart(
                provider, index, subject, OutcomeKind.ERROR, latency_ms, error=error
            )
        latency_ms = round((asyncio.get_running_loop().time() - started) * 1000)
        kind = OutcomeKind.NO_DATA if answer.record.is_empty else OutcomeKind.ANSWERED
        return ProviderPart(provider, index, subject, kind, latency_ms, record=answer.record)

    async def submit(
        self, request: pb.SubmitQueryRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.SubmitQueryResponse:
        received_at = dt.datetime.now(dt.UTC)
        subjects = tuple(PersonalIdentityNumber(raw.replace("-", "")) for raw in request.subjects)
        period = Period(_date(request.period.start), _date(request.period.end))
        closed: list[ProviderPart] = []
        calls = []
        for provider in Provider:
            open_now = PROFILES[provider].opening_hours.is_open_at(received_at)
            for index, subject in enumerate(subjects):
                if open_now:
                    calls.append(self._part(provider, index, subject, period))
                else:
                    closed.append(
                        ProviderPart(provider, index, subject, OutcomeKind.CLOSED, latency_ms=0)
                    )
        parts = (*closed, *await asyncio.gather(*calls))
        ordered = tuple(
            sorted(parts, key=lambda p: (p.subject_index, list(Provider).index(p.provider)))
        )
        answer = CompiledAnswer(
            query_id=uuid.uuid4(),
            subjects=subjects,
            parts=ordered,
            notices=notices_for(subjects, ordered),
            received_at=received_at,
            compiled_at=dt.datetime.now(dt.UTC),
        )
        return pb.SubmitQueryResponse(answer=translation.answer_to_proto(answer))


def proxy_handler(base_services: Mapping[Provider, BaseService]) -> grpc.GenericRpcHandler:
    """The generic handler answering ``SubmitQuery`` through the fan-out proxy."""
    proxy = FanOutProxy(base_services)
    return grpc.method_handlers_generic_handler(
        "ssbtek.v1.QueryService",
        {
            "SubmitQuery": grpc.unary_unary_rpc_method_handler(
                proxy.submit,
                request_deserializer=pb.SubmitQueryRequest.FromString,
                response_serializer=pb.SubmitQueryResponse.SerializeToString,
            )
        },
    )
