"""Hostile input: random, boundary and malformed requests never crash the service,
always get a clear status naming the fields, and never see their values echoed.

The pure edge (translation + validation + status mapping) runs 10,000 examples; the
whole path through a real gRPC channel runs a few hundred.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2
from google.type.date_pb2 import Date
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.grpc import translation
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.server import build_server
from adapters.grpc.status import status_for
from adapters.providers.simulated import build_simulated_base_services
from application.errors import InvalidRequestError
from application.validation import validate
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
VALID_SUBJECTS = ["19121212-1212", "191212121212", "201212121212"]
FIELD_PATH = re.compile(
    r"(asking_organisation\.(organisation_number|name)|caseworker_id|case_id|client_request_id"
    r"|purpose|legal_basis|period(\.(start|end))?|subjects(\[\d+\])?"
    r"|providers\[\d+\]\.(provider|period(\.(start|end))?))"
)
text = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        ["", " ", "\x00", "\u202e", "١٩١٢١٢١٢١٢١٢", "19121212-1213", "212000-0142", *VALID_SUBJECTS]
    ),
    st.text(alphabet="0123456789-+ ", min_size=10, max_size=14),
)
dates = st.builds(Date, year=INT32, month=INT32, day=INT32) | st.builds(
    Date, year=st.integers(1990, 2030), month=st.integers(0, 13), day=st.integers(0, 32)
)
periods = st.builds(pb.Period, start=dates, end=dates)
selections = st.builds(
    pb.ProviderSelection, provider=INT32 | st.integers(0, 9), period=st.none() | periods
)


@st.composite
def requests(draw: st.DrawFn) -> pb.SubmitQueryRequest:
    request = pb.SubmitQueryRequest(
        client_request_id=draw(text),
        asking_organisation=pb.AskingOrganisation(
            organisation_number=draw(text | st.just("212000-0142")), name=draw(text)
        ),
        caseworker_id=draw(text),
        case_id=draw(text),
        purpose=pb.Purpose.ValueType(draw(INT32 | st.integers(0, 3))),
        legal_basis=pb.LegalBasis.ValueType(draw(INT32 | st.integers(0, 3))),
        subjects=draw(
            st.lists(text, max_size=40) | st.lists(st.sampled_from(VALID_SUBJECTS), max_size=300)
        ),
        providers=draw(st.lists(selections, max_size=12)),
    )
    if draw(st.booleans()):
        request.period.CopyFrom(draw(periods))
    return request


def _echoed_values(request: pb.SubmitQueryRequest) -> list[str]:
    values = [request.caseworker_id, request.case_id, request.client_request_id, *request.subjects]
    values += [request.asking_organisation.organisation_number, request.asking_organisation.name]
    return [v.strip() for v in values if len(v.strip()) >= 6]


def check_refusal(request: pb.SubmitQueryRequest, error: InvalidRequestError) -> None:
    status = status_for(error)
    assert status.code == code_pb2.INVALID_ARGUMENT
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert bad_request.field_violations
    for violation in bad_request.field_violations:
        assert FIELD_PATH.fullmatch(violation.field), violation.field
    rendered = status.SerializeToString()
    info = error_details_pb2.ErrorInfo()
    assert status.details[-1].Unpack(info)
    # What the service writes itself: the rules, and the ErrorInfo's reason and domain.
    vocabulary = b"".join(v.description.encode() for v in bad_request.field_violations)
    vocabulary += f"{info.reason} {info.domain}".encode()
    for value in _echoed_values(request):
        if value.encode() not in vocabulary:
            assert value.encode() not in rendered


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_any_request_is_either_valid_or_refused_field_by_field_without_echo(
    request: pb.SubmitQueryRequest,
) -> None:
    try:
        validate(translation.query_command(request), today=dt.date.today())
    except InvalidRequestError as error:
        check_refusal(request, error)


@pytest.fixture
async def target(tmp_path: object) -> AsyncIterator[str]:
    settings_ = Settings(
        store=Store.MEMORY, pseudonym_key_hex="22" * 32, budget_fraction=0.02, rate_limit=""
    )
    queries = build_queries(
        settings_, base_services=build_simulated_base_services({"latency": "none"})
    )
    server, port = await build_server(queries, address="127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(grace=None)
    queries.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests())
async def test_over_a_real_channel_every_request_gets_ok_or_invalid_argument(
    target: str, request: pb.SubmitQueryRequest
) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        call = pb_grpc.QueryServiceStub(channel).SubmitQuery(request, timeout=10)
        try:
            response = await call
        except grpc.aio.AioRpcError:
            response = None
    if response is not None:
        assert len(response.answer.subjects) == len(request.subjects)
        return
    assert await call.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = await rpc_status.aio.from_call(call)
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    info = error_details_pb2.ErrorInfo()
    assert status.details[-1].Unpack(info)
    # What the service writes itself: the rules, and the ErrorInfo's reason and domain.
    vocabulary = b"".join(v.description.encode() for v in bad_request.field_violations)
    vocabulary += f"{info.reason} {info.domain}".encode()
    for value in _echoed_values(request):
        if value.encode() not in vocabulary:
            assert value.encode() not in status.SerializeToString()


async def test_a_message_over_the_size_limit_is_refused(target: str) -> None:
    request = pb.SubmitQueryRequest(case_id="x" * (1024 * 1024 + 1))
    async with grpc.aio.insecure_channel(target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.QueryServiceStub(channel).SubmitQuery(request, timeout=10)
    assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_unknown_providers_in_a_check_are_named(target: str) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.QueryServiceStub(channel).CheckProviders(
                pb.CheckProvidersRequest(providers=[pb.PROVIDER_CSN, pb.Provider.ValueType(42)]),
                timeout=10,
            )
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "providers[1]" in (refused.value.details() or "")
