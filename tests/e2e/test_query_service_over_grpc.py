"""A case-system vendor's view: the running service called over a real gRPC channel."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.json_format import MessageToDict
from google.rpc import error_details_pb2
from google.type.date_pb2 import Date
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from adapters.grpc.generated.ssbtek.v1 import errors_pb2 as errors_pb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as party_pb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2_grpc as party_pb_grpc
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from tests import canaries
from tests.e2e.conftest import RunningServer

pytestmark = pytest.mark.e2e

RNG = random.Random(20261125)
SUBJECTS = [canaries.personnummer(RNG, coordination=i == 3) for i in range(10)]
CASE_ID = canaries.text("CASE")
CASEWORKER_ID = canaries.text("CW")
ALL_PROVIDERS = [v for v in pb.Provider.values() if v != pb.PROVIDER_UNSPECIFIED]
SEEN_IN_ANSWERS: set[str] = set()


def request(subjects: Iterable[str] = SUBJECTS[:1], **changes: object) -> pb.SubmitQueryRequest:
    message = pb.SubmitQueryRequest(
        asking_organisation=pb.AskingOrganisation(
            organisation_number="212000-0142", name="Testkommun"
        ),
        caseworker_id=CASEWORKER_ID,
        case_id=CASE_ID,
        purpose=pb.PURPOSE_FINANCIAL_ASSISTANCE_CASE,
        legal_basis=pb.LEGAL_BASIS_SOL_11_KAP_11,
        period=pb.Period(
            start=Date(year=2025, month=12, day=1), end=Date(year=2026, month=11, day=30)
        ),
        subjects=list(subjects),
    )
    for field, value in changes.items():
        if isinstance(value, list):
            message.ClearField(field)  # type: ignore[arg-type]
            getattr(message, field).extend(value)
        elif isinstance(value, pb.Period):
            getattr(message, field).CopyFrom(value)
        else:
            setattr(message, field, value)
    return message


_AMOUNT = re.compile(r"\d{4,}\.\d{2}")


def _leaves(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):
        yield value


def remember_answer_values(answer: pb.Answer) -> None:
    """Distinctive provider answer values (amounts, registration numbers) for the canary scan."""
    for subject in answer.subjects:
        for part in subject.parts:
            if part.HasField("data"):
                record = MessageToDict(part.data, preserving_proto_field_name=True)
                SEEN_IN_ANSWERS.update(v for v in _leaves(record) if _AMOUNT.fullmatch(v))
                for vehicle in part.data.transportstyrelsen.vehicles:
                    SEEN_IN_ANSWERS.add(vehicle.registration_number)


def bad_request(error: grpc.RpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)
    assert status is not None
    violations: dict[str, str] = {}
    for detail in status.details:
        found = error_details_pb2.BadRequest()
        if detail.Unpack(found):
            violations.update({v.field: v.description for v in found.field_violations})
    return violations


@pytest.fixture(scope="module", autouse=True)
def caseworker_with_assurance(server: RunningServer) -> None:
    """The demo municipality registers the canary caseworker, who signs the assurance."""
    with grpc.insecure_channel(server.target) as opened:
        parties = party_pb_grpc.PartyServiceStub(opened)
        parties.RegisterCaseworker(
            party_pb.RegisterCaseworkerRequest(
                organisation_number="212000-0142", caseworker_id=CASEWORKER_ID
            ),
            timeout=10,
        )
        parties.SignAssurance(
            party_pb.SignAssuranceRequest(
                organisation_number="212000-0142",
                caseworker_id=CASEWORKER_ID,
                signed_on=Date(year=2026, month=1, day=2),
            ),
            timeout=10,
        )


def test_an_unknown_caseworker_is_permission_denied_with_the_reason(channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        pb_grpc.QueryServiceStub(channel).SubmitQuery(
            request(caseworker_id=canaries.text("UNKNOWN")), timeout=10
        )
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "CASEWORKER_UNKNOWN" in (refused.value.details() or "")


def test_the_server_reports_serving_on_the_standard_health_service(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "ssbtek.v1.QueryService"):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_query_service(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {
        "ssbtek.v1.QueryService",
        "ssbtek.v1.PartyService",
        "ssbtek.v1.AgreementService",
        "ssbtek.v1.IncidentService",
        "ssbtek.v1.EscalationService",
        "grpc.health.v1.Health",
    } <= names


def test_one_subject_gets_one_part_from_each_of_the_eight_providers(channel: grpc.Channel) -> None:
    response = pb_grpc.QueryServiceStub(channel).SubmitQuery(request(), timeout=30)
    (subject,) = response.answer.subjects
    assert subject.subject == SUBJECTS[0]
    assert [p.provider for p in subject.parts] == ALL_PROVIDERS
    for part in subject.parts:
        assert part.outcome != pb.OUTCOME_KIND_UNSPECIFIED
        if part.outcome == pb.OUTCOME_KIND_ANSWERED:
            assert part.HasField("data")
        if part.outcome == pb.OUTCOME_KIND_ERROR:
            assert part.error.source in (pb.ERROR_SOURCE_SSBT, pb.ERROR_SOURCE_BT)
    summary = response.answer.summary
    assert summary.subject_count == 1
    assert summary.answered + summary.no_data + summary.errors + summary.closed == 8
    remember_answer_values(response.answer)


def test_ten_subjects_get_eighty_parts_and_protected_identities_get_notices(
    channel: grpc.Channel,
) -> None:
    response = pb_grpc.QueryServiceStub(channel).SubmitQuery(request(SUBJECTS), timeout=60)
    answer = response.answer
    assert [s.subject for s in answer.subjects] == SUBJECTS
    assert all(len(s.parts) == 8 for s in answer.subjects)
    flagged = [s for s in answer.subjects if s.HasField("protected_identity")]
    assert len(flagged) == len(answer.summary.protected_identity_notices)
    for subject in flagged:
        assert subject.protected_identity.flagged_by
        assert "sekretessmarkering" in subject.protected_identity.text.lower()
    remember_answer_values(answer)


def test_streaming_sends_every_part_then_the_summary_last(channel: grpc.Channel) -> None:
    streamed = list(
        pb_grpc.QueryServiceStub(channel).StreamQuery(
            pb.StreamQueryRequest.FromString(request(SUBJECTS[:2]).SerializeToString()), timeout=30
        )
    )
    assert [m.WhichOneof("event") for m in streamed] == ["part"] * 16 + ["summary"]
    assert {(m.part.subject_index, m.part.provider) for m in streamed[:-1]} == {
        (i, p) for i in range(2) for p in ALL_PROVIDERS
    }


def test_check_providers_reaches_all_eight_base_services(channel: grpc.Channel) -> None:
    checked = pb_grpc.QueryServiceStub(channel).CheckProviders(
        pb.CheckProvidersRequest(), timeout=10
    )
    assert [s.provider for s in checked.providers] == ALL_PROVIDERS
    assert all(s.reachable for s in checked.providers)
    assert {s.breaker for s in checked.providers} == {pb.BREAKER_STATE_CLOSED}
    assert all(s.call_limit >= 20 for s in checked.providers)
    assert not any(s.HasField("unavailable_since") for s in checked.providers)


def test_describe_providers_gives_the_catalogue(channel: grpc.Channel) -> None:
    described = pb_grpc.QueryServiceStub(channel).DescribeProviders(
        pb.DescribeProvidersRequest(), timeout=10
    )
    by_provider = {d.provider: d for d in described.providers}
    assert set(by_provider) == set(ALL_PROVIDERS)
    assert "16:30" in by_provider[pb.PROVIDER_TRANSPORTSTYRELSEN].opening_hours
    assert all(d.legal_basis for d in described.providers)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"subjects": [SUBJECTS[0][:-1] + str((int(SUBJECTS[0][-1]) + 1) % 10)]}, {"subjects[0]"}),
        ({"subjects": [*SUBJECTS, SUBJECTS[0]]}, {"subjects"}),
        ({"subjects": [SUBJECTS[0], SUBJECTS[0]]}, {"subjects[1]"}),
        ({"case_id": ""}, {"case_id"}),
        ({"purpose": 0, "legal_basis": 0}, {"purpose", "legal_basis"}),
        ({"legal_basis": 99}, {"legal_basis"}),
        (
            {
                "period": pb.Period(
                    start=Date(year=2026, month=6, day=1), end=Date(year=2026, month=1, day=1)
                )
            },
            {"period"},
        ),
        (
            {
                "period": pb.Period(
                    start=Date(year=2020, month=1, day=1), end=Date(year=2026, month=1, day=1)
                )
            },
            {"period"},
        ),
    ],
)
def test_bad_input_gets_invalid_argument_with_field_details_and_no_personal_data(
    channel: grpc.Channel, changes: dict[str, object], fields: set[str]
) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        pb_grpc.QueryServiceStub(channel).SubmitQuery(request(**changes), timeout=10)  # type: ignore[arg-type]
    error = refused.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    violations = bad_request(error)
    assert set(violations) == fields
    shown = (error.details() or "") + json.dumps(violations)
    for subject in SUBJECTS:
        for form in canaries.forms(subject):
            assert form not in shown
    assert CASE_ID not in shown


def test_a_retry_with_the_same_client_request_id_gets_already_exists_naming_the_first_query(
    channel: grpc.Channel,
) -> None:
    stub = pb_grpc.QueryServiceStub(channel)
    first = stub.SubmitQuery(request(client_request_id="vendor-req-0001"), timeout=30)
    assert first.answer.query_id
    with pytest.raises(grpc.RpcError) as refused:
        stub.SubmitQuery(request(client_request_id="vendor-req-0001"), timeout=30)
    assert refused.value.code() is grpc.StatusCode.ALREADY_EXISTS
    status = rpc_status.from_call(refused.value)
    assert status is not None
    detail = errors_pb.QueryAlreadyReceived()
    assert status.details[0].Unpack(detail)
    assert detail.query_id == first.answer.query_id
    assert detail.received_at == first.answer.summary.received_at
    assert detail.state in (errors_pb.QUERY_STATE_DELIVERED, errors_pb.QUERY_STATE_ERASED)
    info = error_details_pb2.ErrorInfo()
    assert status.details[-1].Unpack(info)
    assert info.reason == "DUPLICATE_REQUEST"
    assert info.metadata["query_id"] == first.answer.query_id
    assert info.metadata["received_at"] == first.answer.summary.received_at.ToJsonString()
    assert detail.delivered_at.ToDatetime() >= detail.received_at.ToDatetime()  # ADR 6
    assert info.metadata["delivered_at"] == detail.delivered_at.ToJsonString()


def run_cli(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    ssbtek = str(Path(sys.executable).parent / "ssbtek")
    common = ["--target", server.target, "--organisation", "212000-0142"]
    common += ["--caseworker", CASEWORKER_ID, "--case", CASE_ID]
    return subprocess.run(
        [ssbtek, "query", *common, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_the_cli_prints_a_table_with_all_eight_providers(server: RunningServer) -> None:
    shown = run_cli(server, SUBJECTS[1])
    assert shown.returncode == 0, shown.stderr
    names = ["arbetsformedlingen", "csn", "forsakringskassan", "migrationsverket"]
    names += ["pensionsmyndigheten", "skatteverket", "unemployment funds", "transportstyrelsen"]
    for name in names:
        assert name in shown.stdout
    as_json = run_cli(server, "--json", SUBJECTS[2])
    assert as_json.returncode == 0, as_json.stderr
    answer = json.loads(as_json.stdout)
    assert len(answer["subjects"][0]["parts"]) == 8


def test_the_cli_explains_bad_input_field_by_field(server: RunningServer) -> None:
    refused = run_cli(server, "19121212-1213")
    assert refused.returncode == 2
    assert "INVALID_ARGUMENT" in refused.stderr
    assert "subjects[0]: subjects[0] has a wrong check digit" in refused.stderr
    assert "19121212-1213" not in refused.stderr
