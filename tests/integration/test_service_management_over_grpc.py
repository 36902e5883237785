"""The incident and escalation services over a real gRPC channel (in-process server).

Also the ``ssbtek incident`` / ``ssbtek escalation`` commands against that server.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2 as epb
from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2_grpc as epb_grpc
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as ipb
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2_grpc as ipb_grpc
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as qpb
from adapters.grpc.server import interceptor_chain
from domain.providers import STOCKHOLM
from infrastructure.composition import (
    ServiceManagement,
    build_service_management,
)
from infrastructure.service_management_cli import add_service_management_commands
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock

WEDNESDAY_10 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)
REPORTER = ipb.IncidentReporter(organisation_number="212000-0142", reference="INC-2026-0042")


class Running:
    def __init__(self, target: str, management: ServiceManagement, clock: FakeClock) -> None:
        self.target = target
        self.management = management
        self.clock = clock


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    clock = FakeClock(WEDNESDAY_10)
    settings = Settings(store=Store.MEMORY, data_dir=tmp_path / "var")
    management = build_service_management(settings, clock=clock)
    server = grpc.aio.server(interceptors=interceptor_chain())
    for register in management.registrations():
        register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield Running(f"127.0.0.1:{port}", management, clock)
    await server.stop(grace=1)
    management.close()


@pytest.fixture
async def incidents(running: Running) -> AsyncIterator[ipb_grpc.IncidentServiceAsyncStub]:
    async with grpc.aio.insecure_channel(running.target) as channel:
        yield ipb_grpc.IncidentServiceStub(channel)


@pytest.fixture
async def escalations(running: Running) -> AsyncIterator[epb_grpc.EscalationServiceAsyncStub]:
    async with grpc.aio.insecure_channel(running.target) as channel:
        yield epb_grpc.EscalationServiceStub(channel)


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


async def test_an_incident_is_worked_from_registration_to_report_back(
    incidents: ipb_grpc.IncidentServiceAsyncStub,
) -> None:
    """Bilaga 4 § 3.3.1.1 and § 3.3.3, over the wire: deadlines on the support clock."""
    registered = (
        await incidents.RegisterIncident(
            ipb.RegisterIncidentRequest(
                reporter=REPORTER,
                impact=ipb.INCIDENT_IMPACT_TIMEOUTS,
                providers=[qpb.PROVIDER_CSN],
            )
        )
    ).incident
    assert registered.priority == ipb.INCIDENT_PRIORITY_HIGH
    assert registered.response.due.ToDatetime(dt.UTC) == WEDNESDAY_10 + dt.timedelta(hours=1)
    assert registered.resolution.due.ToDatetime(dt.UTC) == WEDNESDAY_10 + dt.timedelta(days=2)
    assert registered.reporter.organisation_number == "2120000142"
    incident_id = registered.incident_id
    await incidents.RespondToIncident(ipb.RespondToIncidentRequest(incident_id=incident_id))
    await incidents.ResolveIncident(ipb.ResolveIncidentRequest(incident_id=incident_id))
    done = (
        await incidents.ReportIncidentBack(ipb.ReportIncidentBackRequest(incident_id=incident_id))
    ).incident
    assert done.status == ipb.INCIDENT_STATUS_REPORTED_BACK
    assert done.response.HasField("met_at")
    listed = await incidents.ListIncidents(ipb.ListIncidentsRequest())
    assert [i.incident_id for i in listed.incidents] == [incident_id]
    assert not (await incidents.ListIncidents(ipb.ListIncidentsRequest(open_only=True))).incidents


async def test_breaches_recorded_by_the_scheduled_check_are_shown(
    running: Running, incidents: ipb_grpc.IncidentServiceAsyncStub
) -> None:
    registered = (
        await incidents.RegisterIncident(
            ipb.RegisterIncidentRequest(reporter=REPORTER, impact=ipb.INCIDENT_IMPACT_FLOW_BROKEN)
        )
    ).incident
    running.clock.advance(dt.timedelta(minutes=31))
    await running.management.record_breaches()
    await running.management.record_breaches()
    got = await incidents.GetIncident(ipb.GetIncidentRequest(incident_id=registered.incident_id))
    (breach,) = got.incident.breaches
    assert breach.kind == ipb.SERVICE_DEADLINE_KIND_RESPONSE
    assert breach.priority == ipb.INCIDENT_PRIORITY_CRITICAL
    assert breach.due == registered.response.due


async def test_every_broken_field_is_named_and_no_value_is_echoed(
    incidents: ipb_grpc.IncidentServiceAsyncStub,
) -> None:
    request = ipb.RegisterIncidentRequest(
        reporter=ipb.IncidentReporter(organisation_number="12", reference="19121212-1212"),
        impact=99,  # type: ignore[arg-type]
        providers=[42],  # type: ignore[list-item]
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await incidents.RegisterIncident(request)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(raised.value)
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == [
        "reporter.organisation_number",
        "reporter.reference",
        "impact",
        "providers[0]",
    ]
    assert "19121212" not in str(status)


async def test_rules_are_failed_preconditions_and_unknown_ids_not_found(
    incidents: ipb_grpc.IncidentServiceAsyncStub,
) -> None:
    registered = (
        await incidents.RegisterIncident(
            ipb.RegisterIncidentRequest(reporter=REPORTER, impact=ipb.INCIDENT_IMPACT_TIMEOUTS)
        )
    ).incident
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await incidents.ResolveIncident(
            ipb.ResolveIncidentRequest(incident_id=registered.incident_id)
        )
    assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(raised.value)
    assert status is not None
    assert status.code == code_pb2.FAILED_PRECONDITION
    failure = error_details_pb2.PreconditionFailure()
    assert status.details[0].Unpack(failure)
    assert failure.violations[0].subject == "004 Bilaga 4 § 3.3.1.1, 3.3.3"
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await incidents.GetProblem(
            ipb.GetProblemRequest(problem_id="00000000-0000-4000-8000-000000000000")
        )
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND


async def test_a_problem_is_registered_investigated_and_becomes_a_known_error(
    incidents: ipb_grpc.IncidentServiceAsyncStub,
) -> None:
    """Bilaga 4 § 3.5-3.5.1 over the wire."""
    incident_ids = []
    for _ in range(2):
        response = await incidents.RegisterIncident(
            ipb.RegisterIncidentRequest(reporter=REPORTER, impact=ipb.INCIDENT_IMPACT_TIMEOUTS)
        )
        incident_ids.append(response.incident.incident_id)
    problem = (
        await incidents.RegisterProblem(
            ipb.RegisterProblemRequest(
                incident_ids=incident_ids[:1], priority=ipb.INCIDENT_PRIORITY_CRITICAL
            )
        )
    ).problem
    assert problem.resolution.due.ToDatetime(dt.UTC) == WEDNESDAY_10 + dt.timedelta(days=6)
    await incidents.LinkIncidentsToProblem(
        ipb.LinkIncidentsToProblemRequest(
            problem_id=problem.problem_id, incident_ids=incident_ids[1:]
        )
    )
    await incidents.StartProblemInvestigation(
        ipb.StartProblemInvestigationRequest(problem_id=problem.problem_id)
    )
    known = (
        await incidents.EstablishKnownError(
            ipb.EstablishKnownErrorRequest(
                problem_id=problem.problem_id, known_error="KE-2026-9", workaround_available=True
            )
        )
    ).problem
    assert known.status == ipb.PROBLEM_STATUS_KNOWN_ERROR
    assert list(known.incident_ids) == incident_ids
    listed = await incidents.ListProblems(ipb.ListProblemsRequest())
    assert [p.problem_id for p in listed.problems] == [problem.problem_id]


def _party(number: str, role: epb.DisputePartyRole.ValueType) -> epb.DisputeParty:
    return epb.DisputeParty(organisation_number=number, role=role)


MUNICIPALITY = _party("212000-0142", epb.DISPUTE_PARTY_ROLE_MUNICIPALITY)
OPERATOR = _party("202100-5521", epb.DISPUTE_PARTY_ROLE_OPERATOR)
SKR = _party("222000-0315", epb.DISPUTE_PARTY_ROLE_SKR)


async def test_a_dispute_climbs_the_ladder_and_is_sent_back_over_the_wire(
    escalations: epb_grpc.EscalationServiceAsyncStub,
) -> None:
    """004 § 10: council, level 1, level 2, back to another group, decision; SKR acting
    for the municipality under its power of attorney."""
    skr = epb.DisputeActor(party=SKR, on_behalf_of=MUNICIPALITY, power_of_attorney="FM-7")
    operator = epb.DisputeActor(party=OPERATOR)
    raised = (
        await escalations.RaiseDispute(
            epb.RaiseDisputeRequest(
                raised_by=skr, parties=[MUNICIPALITY, OPERATOR], subject="DNR-2026/481"
            )
        )
    ).escalation
    assert raised.forum == epb.DISPUTE_FORUM_OPERATIONS_COUNCIL_MUNICIPALITIES
    escalation_id = raised.escalation_id
    await escalations.EscalateDispute(
        epb.EscalateDisputeRequest(escalation_id=escalation_id, by=skr)
    )
    for actor, view in ((skr, "VIEW-1"), (operator, "VIEW-2")):
        await escalations.SubmitView(
            epb.SubmitViewRequest(escalation_id=escalation_id, by=actor, view=view)
        )
    await escalations.RecordRecommendation(
        epb.RecordRecommendationRequest(escalation_id=escalation_id, recommendation="REC-1")
    )
    at_2 = (
        await escalations.EscalateDispute(
            epb.EscalateDisputeRequest(escalation_id=escalation_id, by=operator)
        )
    ).escalation
    assert (at_2.level, at_2.stage) == (2, epb.DISPUTE_STAGE_LEVEL_2)
    back = (
        await escalations.RequestMaterial(
            epb.RequestMaterialRequest(
                escalation_id=escalation_id,
                from_forum=epb.DISPUTE_FORUM_OTHER_GROUP,
                group="JURIDIK",
            )
        )
    ).escalation
    assert back.stage == epb.DISPUTE_STAGE_MATERIAL_REQUESTED
    await escalations.ProvideMaterial(
        epb.ProvideMaterialRequest(escalation_id=escalation_id, material="PM-1")
    )
    decided = (
        await escalations.DecideDispute(
            epb.DecideDisputeRequest(escalation_id=escalation_id, decision="BESLUT-1")
        )
    ).escalation
    assert (decided.stage, decided.outcome) == (epb.DISPUTE_STAGE_DECIDED, "BESLUT-1")
    assert [v.view for v in decided.views] == ["VIEW-1", "VIEW-2"]
    assert decided.raised_by.power_of_attorney == "FM-7"


async def test_skr_without_a_power_of_attorney_is_refused_by_name_of_the_field(
    escalations: epb_grpc.EscalationServiceAsyncStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await escalations.RaiseDispute(
            epb.RaiseDisputeRequest(
                raised_by=epb.DisputeActor(party=SKR, on_behalf_of=MUNICIPALITY),
                parties=[MUNICIPALITY, OPERATOR],
                subject="DNR-1",
            )
        )
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "raised_by" in (raised.value.details() or "")


def _cli(target: str, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ssbtek")
    add_service_management_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([*argv[:-1], f"--target={target}", argv[-1]])
    code: int = args.handler(args)
    return code


async def test_the_command_line_registers_and_lists_incidents_and_raises_a_dispute(
    running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    target = running.target
    registered = await asyncio.to_thread(
        _cli,
        target,
        "incident",
        "register",
        "--organisation=212000-0142",
        "--reference=INC-9",
        "--impact=FLOW_BROKEN",
        "--provider=CSN",
        "--json",
    )
    assert registered == 0
    incident = json.loads(capsys.readouterr().out)["incident"]
    assert incident["priority"] == "INCIDENT_PRIORITY_CRITICAL"
    assert incident["response"]["due"] == _timestamp(WEDNESDAY_10 + dt.timedelta(minutes=30))
    assert await asyncio.to_thread(_cli, target, "incident", "list", "--open") == 0
    assert "INC-9" in capsys.readouterr().out
    raised = await asyncio.to_thread(
        _cli,
        target,
        "escalation",
        "raise",
        "--by=212000-0142:MUNICIPALITY",
        "--party=212000-0142:MUNICIPALITY",
        "--party=202100-5521:OPERATOR",
        "--subject=DNR-2026/1",
        "--json",
    )
    assert raised == 0
    assert json.loads(capsys.readouterr().out)["escalation"].get("level", 0) == 0
    assert await asyncio.to_thread(_cli, target, "incident", "respond", "not-a-uuid") == 2


async def test_incidents_are_listed_in_pages_that_new_registrations_never_shift(
    incidents: ipb_grpc.IncidentServiceAsyncStub,
) -> None:
    async def register() -> str:
        request = ipb.RegisterIncidentRequest(
            reporter=REPORTER, impact=ipb.INCIDENT_IMPACT_SINGLE_CALLS_UNANSWERED
        )
        return (await incidents.RegisterIncident(request)).incident.incident_id

    registered = [await register() for _ in range(5)]
    first = await incidents.ListIncidents(ipb.ListIncidentsRequest(limit=2))
    assert [i.incident_id for i in first.incidents] == registered[:2:-1]
    assert first.next_page_token
    newer = await register()  # between the pages: it must neither shift nor repeat one
    second = await incidents.ListIncidents(
        ipb.ListIncidentsRequest(limit=2, page_token=first.next_page_token)
    )
    assert [i.incident_id for i in second.incidents] == registered[2:0:-1]
    last = await incidents.ListIncidents(
        ipb.ListIncidentsRequest(limit=2, page_token=second.next_page_token)
    )
    assert [i.incident_id for i in last.incidents] == registered[:1]
    assert last.next_page_token == ""
    restarted = await incidents.ListIncidents(ipb.ListIncidentsRequest(limit=2))
    assert [i.incident_id for i in restarted.incidents] == [newer, registered[4]]


@pytest.mark.parametrize("token_of_the_other_filter", [True, False])
async def test_a_page_token_of_another_list_filter_or_none_at_all_is_invalid(
    incidents: ipb_grpc.IncidentServiceAsyncStub, token_of_the_other_filter: bool
) -> None:
    for _ in range(2):
        await incidents.RegisterIncident(
            ipb.RegisterIncidentRequest(reporter=REPORTER, impact=ipb.INCIDENT_IMPACT_TIMEOUTS)
        )
    token = (await incidents.ListIncidents(ipb.ListIncidentsRequest(limit=1))).next_page_token
    request = (
        ipb.ListIncidentsRequest(open_only=True, page_token=token)
        if token_of_the_other_filter
        else ipb.ListIncidentsRequest(page_token=token[:-2] + "!!")
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await incidents.ListIncidents(request)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(refused.value)
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["page_token"]
