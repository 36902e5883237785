"""``GrpcQueryServicer``: thin. Translate the request, make one application call, translate back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from adapters.grpc import translation
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.identity import authenticated_organisation
from adapters.grpc.interceptors import Context
from application.errors import InvalidRequestError
from application.queries import Queries
from domain.errors import FieldViolation
from domain.query.answer import CompiledAnswer


class GrpcQueryServicer(pb_grpc.QueryServiceServicer):
    def __init__(self, queries: Queries) -> None:
        self._queries = queries

    async def SubmitQuery(
        self,
        request: pb.SubmitQueryRequest,
        context: Context,
    ) -> pb.SubmitQueryResponse:
        command = translation.query_command(
            request, authenticated_organisation=authenticated_organisation(context)
        )
        answer = await self._queries.submit(command, time_remaining_s=context.time_remaining())
        return pb.SubmitQueryResponse(answer=translation.answer_to_proto(answer))

    async def StreamQuery(
        self,
        request: pb.StreamQueryRequest,
        context: Context,
    ) -> AsyncIterator[pb.StreamQueryResponse]:
        command = translation.query_command(
            request, authenticated_organisation=authenticated_organisation(context)
        )
        items = self._queries.stream(command, time_remaining_s=context.time_remaining())
        async with aclosing(items):
            async for item in items:
                if isinstance(item, CompiledAnswer):
                    yield pb.StreamQueryResponse(summary=translation.summary_to_proto(item))
                else:
                    yield pb.StreamQueryResponse(part=translation.part_to_proto(item))

    async def CheckProviders(
        self,
        request: pb.CheckProvidersRequest,
        context: Context,
    ) -> pb.CheckProvidersResponse:
        chosen = [translation.provider_from_proto(value) for value in request.providers]
        unknown = [
            FieldViolation(f"providers[{index}]", "is not a known provider")
            for index, provider in enumerate(chosen)
            if provider is None
        ]
        if unknown:
            raise InvalidRequestError(unknown)
        statuses = await self._queries.check_providers([p for p in chosen if p is not None])
        return pb.CheckProvidersResponse(
            providers=[translation.status_to_proto(s) for s in statuses]
        )

    async def DescribeProviders(
        self,
        request: pb.DescribeProvidersRequest,
        context: Context,
    ) -> pb.DescribeProvidersResponse:
        return pb.DescribeProvidersResponse(
            providers=[
                translation.description_to_proto(d) for d in self._queries.describe_providers()
            ]
        )
