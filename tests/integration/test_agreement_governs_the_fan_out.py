"""The party and agreement model reaches the query saga: a provider that has left the
service, or stopped serving a municipality, is not asked; the answer says why per provider,
the audit trail records it and the monthly report counts it by reason. Over real gRPC
channels (the query, party and audit services of one server), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import attrs
import grpc
import pytest
from google.type.date_pb2 import Date

from adapters.grpc.audit_servicer import register_audit_service
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as apb
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2_grpc as apb_grpc
from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2 as epb
from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2_grpc as epb_grpc
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.party_servicer import register_party_services
from adapters.grpc.server import build_server, interceptor_chain
from adapters.providers.simulated import build_simulated_base_services
from application.audit.seals import AuditSeals
from application.demo import DEMO_CASEWORKER, PROVIDERS, seed_demo
from application.queries import Queries
from domain.escalation.aggregate import Escalation
from domain.party.values import BreachNotifier, DecisionBody, OrderForm, PartyRole
from domain.providers import STOCKHOLM, Provider
from domain.query.aggregate import Query
from infrastructure.composition import (
    ServiceManagement,
    audited,
    build_audit_trail,
    build_queries,
    build_service_management,
)
from infrastructure.settings import Settings
from tests.fakes import FakeClock
from tests.integration.audit.world import new_signer, seals_for, verifier_of
from tests.integration.party_world import DEMO, GOTHENBURG, World, open_world

CSN = PROVIDERS[Provider.CSN][0]
ASKED = {pb.OUTCOME_KIND_ANSWERED, pb.OUTCOME_KIND_NO_DATA}


@attrs.frozen
class Served:
    queries_stub: pb_grpc.QueryServiceAsyncStub
    audit_stub: apb_grpc.AuditServiceAsyncStub
    world: World
    queries: Queries


@pytest.fixture
async def served(durable_store_settings: Settings) -> AsyncIterator[Served]:
    world = open_world(durable_store_settings)  # Monday 2 March 2026, 09:00
    seed_demo(world.parties, world.agreements, world.clock.now())
    queries = build_queries(
        durable_store_settings,
        base_services=build_simulated_base_services({"latency": "none"}),
        clock=world.clock,
        access_policy=world.parties,
    )
    signer = new_signer()
    seals: AuditSeals = seals_for(durable_store_settings, signer, world.clock)
    trail = build_audit_trail(audited(queries), seals, verifier_of(signer), clock=world.clock)
    server, port = await build_server(
        queries,
        address="127.0.0.1:0",
        services=[
            *register_party_services(world.parties, world.agreements),
            register_audit_service(trail),
        ],
    )
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Served(
                pb_grpc.QueryServiceStub(channel),
                apb_grpc.AuditServiceStub(channel),
                world,
                queries,
            )
    finally:
        await server.stop(grace=None)
        queries.close()
        seals.close()
        world.close()


def request(organisation: str = DEMO, caseworker: str = DEMO_CASEWORKER) -> pb.SubmitQueryRequest:
    return pb.SubmitQueryRequest(
        asking_organisation=pb.AskingOrganisation(organisation_number=organisation),
        caseworker_id=caseworker,
        case_id="EKB-2026-0019",
        purpose=pb.PURPOSE_FINANCIAL_ASSISTANCE_CASE,
        legal_basis=pb.LEGAL_BASIS_SOL_11_KAP_11,
        period=pb.Period(
            start=Date(year=2026, month=1, day=1), end=Date(year=2026, month=2, day=28)
        ),
        subjects=["19121212-1212", "19900101-0017"],
        providers=[
            pb.ProviderSelection(provider=pb.PROVIDER_CSN),
            pb.ProviderSelection(provider=pb.PROVIDER_SKATTEVERKET),
        ],
    )


async def outcomes(served: Served, call: pb.SubmitQueryRequest) -> tuple[pb.Answer, set[Any]]:
    """The answer, and each (provider, outcome) it holds over all subjects."""
    answer = (await served.queries_stub.SubmitQuery(call, timeout=10)).answer
    return answer, {(p.provider, p.outcome) for s in answer.subjects for p in s.parts}


def recorded_csn_kinds(queries: Queries) -> list[list[str]]:
    """Per compiled query in the trail, the outcome kinds recorded for CSN's calls."""
    events = [
        queries.mapper.to_domain_event(n) for n in queries.recorder.select_notifications(1, 10_000)
    ]
    return [
        [o.kind.value for c in e.calls if c.provider is Provider.CSN for o in c.outcomes]
        for e in events
        if isinstance(e, Query.Compiled)
    ]


async def not_asked_in_report(served: Served, year: int, month: int) -> dict[str, int]:
    report = await served.audit_stub.GetReport(
        apb.GetReportRequest(year=year, month=month), timeout=60
    )
    document = json.loads(report.report_json)
    (csn,) = [p for p in document["performance"]["providers"] if p["provider"] == "CSN"]
    return {count["reason"]: count["queries"] for count in csn["not_asked"]}


def connect_municipality(world: World, number: str, name: str, caseworker: str) -> None:
    """A second municipality through the whole connection procedure (004 § 9.2)."""
    parties = world.parties
    day = world.clock.now().date()
    parties.apply(number, name, PartyRole.MUNICIPALITY)
    approve_integration(world, number)
    parties.record_vehicle_register_consent(number, day)
    parties.connect(number)
    parties.register_caseworker(number, caseworker)
    parties.sign_assurance(number, caseworker, day)


def approve_integration(world: World, number: str) -> None:
    """An applicant accepted by every party, commissioned, its signed form approved (004 § 9)."""
    parties = world.parties
    for acceptor in parties.party(number).pending_acceptances:
        parties.accept(number, acceptor)
    parties.commission_operator(number)
    parties.submit_order_form(number, OrderForm(world.clock.now().date(), True, True, True))
    parties.approve_integration(number)


async def test_a_withdrawn_provider_is_asked_until_31_december_and_not_after(
    served: Served,
) -> None:
    """004 § 17.1: "Uppgiftslämnare och Kommun äger rätt att, genom skriftlig uppsägning
    senast sex (6) månader före varje kalenderårs utgång, ensidigt frånträda Tjänsten.
    Tjänsten upphör då att gälla den 31 december samma år som uppsägningen gjorts."
    CSN gives notice on 2 March 2026; it is asked on 31 December and not on 4 January 2027,
    where its part says PROVIDER_NOT_CONNECTED, not an error, for every subject."""
    world = served.world
    notice = world.parties.give_withdrawal_notice(CSN)
    assert notice.deadlines.withdrawal_effective_on == dt.date(2026, 12, 31)

    world.move_to(dt.date(2026, 12, 31))
    _, last_day = await outcomes(served, request())
    assert {outcome for provider, outcome in last_day if provider == pb.PROVIDER_CSN} <= ASKED

    world.move_to(dt.date(2027, 1, 4))
    answer, after = await outcomes(served, request())
    assert {o for p, o in after if p == pb.PROVIDER_CSN} == {pb.OUTCOME_KIND_PROVIDER_NOT_CONNECTED}
    assert {o for p, o in after if p == pb.PROVIDER_SKATTEVERKET} <= ASKED
    assert answer.summary.provider_not_connected == 2
    assert answer.summary.errors == 0
    csn_parts = [p for s in answer.subjects for p in s.parts if p.provider == pb.PROVIDER_CSN]
    assert all(not p.HasField("error") and not p.HasField("data") for p in csn_parts)

    assert recorded_csn_kinds(served.queries)[-1] == ["PROVIDER_NOT_CONNECTED"] * 2
    assert (await not_asked_in_report(served, 2027, 1))["PROVIDER_NOT_CONNECTED"] == 1
    assert (await not_asked_in_report(served, 2026, 12))["PROVIDER_NOT_CONNECTED"] == 0


async def test_a_provider_that_stopped_serving_a_municipality_is_not_asked_for_it(
    served: Served,
) -> None:
    """001 § 7.2: "[...] äger Kommun rätt att inom trettio (30) dagar från
    Uppgiftslämnarens skriftliga påtalande, uppfylla Uppgiftslämnarens förändrade
    förutsättningar. Vidtar inte Kommunen begärda ändringar, äger Uppgiftslämnaren rätt att
    sluta tillhandahålla uppgifter till Kommunen som inte längre uppfyller
    Uppgiftslämnarens kvalificering."
    CSN stops serving the demo municipality after its 30 days; the demo municipality's
    query says PROVIDER_STOPPED for CSN, while another municipality's query still asks it."""
    world = served.world
    connect_municipality(world, GOTHENBURG, "Göteborgs kommun", "GBG0001")
    world.parties.notify_qualification_change(DEMO, CSN)
    world.move_to(dt.date(2026, 4, 2))
    world.parties.stop_provider_service(DEMO, CSN)

    answer, stopped = await outcomes(served, request())
    assert {o for p, o in stopped if p == pb.PROVIDER_CSN} == {pb.OUTCOME_KIND_PROVIDER_STOPPED}
    assert {o for p, o in stopped if p == pb.PROVIDER_SKATTEVERKET} <= ASKED
    assert (answer.summary.provider_stopped, answer.summary.errors) == (2, 0)

    _, other = await outcomes(served, request(GOTHENBURG, "GBG0001"))
    assert {o for p, o in other if p == pb.PROVIDER_CSN} <= ASKED

    assert recorded_csn_kinds(served.queries)[-2] == ["PROVIDER_STOPPED"] * 2
    counted = await not_asked_in_report(served, 2026, 4)
    assert counted == {
        "CLOSED": 0,
        "NOT_ENTITLED": 0,
        "PROVIDER_NOT_CONNECTED": 0,
        "PROVIDER_STOPPED": 1,
    }


async def test_a_provider_is_asked_only_once_the_operator_has_connected_it(
    served: Served,
) -> None:
    """004 § 9.3.8: "SSBTEK – Anslutningsavtal uppgiftslämnare ska anses ha träffats när
    Driftsparten har möjliggjort faktisk åtkomst till Tjänstens tekniska infrastruktur."
    A provider still on its way in (applied, integration approved) is not asked; once
    connected it is."""
    world = served.world
    funds = "802999-9995"  # a test number: no party with it exists in the demo
    world.parties.apply(funds, "Test a-kassa", PartyRole.DATA_PROVIDER, Provider.UNEMPLOYMENT_FUNDS)
    call = request()
    call.providers.append(pb.ProviderSelection(provider=pb.PROVIDER_UNEMPLOYMENT_FUNDS))

    def funds_outcomes(found: set[Any]) -> set[int]:
        return {o for p, o in found if p == pb.PROVIDER_UNEMPLOYMENT_FUNDS}

    _, applied = await outcomes(served, call)
    assert funds_outcomes(applied) == {pb.OUTCOME_KIND_PROVIDER_NOT_CONNECTED}
    approve_integration(world, funds)
    _, approved = await outcomes(served, call)
    assert funds_outcomes(approved) == {pb.OUTCOME_KIND_PROVIDER_NOT_CONNECTED}
    world.parties.connect(funds)
    _, connected = await outcomes(served, call)
    assert funds_outcomes(connected) <= ASKED


async def test_a_provider_disconnected_or_forced_out_early_is_not_asked(served: Served) -> None:
    """004 § 18.1: "[...] äger Driftsparten rätt att, på Parts bekostnad, avveckla Parts
    anslutning till Tjänstens tekniska infrastruktur." 004 § 17.3: "[...] har Part rätt att
    frånträda Tjänsten tidigare [...]". CSN is disconnected after 60 days without cure;
    Skatteverket leaves early by a government decision: neither is asked from that day."""
    world = served.world
    world.parties.notify_breach(CSN, BreachNotifier.SKR)
    world.move_to(dt.date(2026, 5, 4))
    world.parties.terminate_for_breach(CSN)
    world.parties.record_forced_exit(
        PROVIDERS[Provider.SKATTEVERKET][0], DecisionBody.GOVERNMENT, None
    )
    answer, found = await outcomes(served, request())
    assert found == {
        (pb.PROVIDER_CSN, pb.OUTCOME_KIND_PROVIDER_NOT_CONNECTED),
        (pb.PROVIDER_SKATTEVERKET, pb.OUTCOME_KIND_PROVIDER_NOT_CONNECTED),
    }
    assert (answer.summary.provider_not_connected, answer.summary.errors) == (4, 0)


BILAGA_2 = {
    pb.PROVIDER_ARBETSFORMEDLINGEN: [
        "16 § förordningen (2002:623)",
        "11 kap. 11 a § socialtjänstlagen",
        "5 § förordningen (2008:975)",
        "11 c § lagen (2010:197)",
    ],
    pb.PROVIDER_CSN: [
        "13 § studiestödsdataförordningen (2009:321)",
        "2 § förordningen (2008:975)",
        "11 kap. 11 § socialtjänstlagen",
    ],
    pb.PROVIDER_FORSAKRINGSKASSAN: [
        "114 kap. 8 § punkt 4 socialförsäkringsbalken",
        "114 kap. 24 § socialförsäkringsbalken",
        "3 § förordningen (2008:975)",
        "3 § förordningen (1980:995)",
        "11 kap. 11 § socialtjänstlagen",
    ],
    pb.PROVIDER_MIGRATIONSVERKET: [
        "6 kap. 5 § offentlighets- och sekretesslagen (2009:400)",
        "11, 12 och 13 §§ utlänningsdatalagen (2016:27)",
        "artikel 6.1 e",
    ],
    pb.PROVIDER_PENSIONSMYNDIGHETEN: [
        "114 kap. 8 § punkt 4 socialförsäkringsbalken",
        "114 kap. 24 § socialförsäkringsbalken",
        "3 § förordningen (2008:975)",
        "11 kap. 11 § socialtjänstlagen",
    ],
    pb.PROVIDER_SKATTEVERKET: [
        "2 kap. 8 a § lagen (2001:181)",
        "3 § förordningen (2008:975)",
        "11 kap. 11 b § socialtjänstlagen",
    ],
    pb.PROVIDER_UNEMPLOYMENT_FUNDS: [
        "11 kap. 11 § socialtjänstlagen",
        "4 § förordningen (2008:975)",
        "lagen (1997:238) om arbetslöshetsförsäkring",
        "lagen (1997:239) om arbetslöshetskassor",
        "artikel 6.1 c",
    ],
    pb.PROVIDER_TRANSPORTSTYRELSEN: [
        "3 kap. 4 § vägtrafikdatalagen (2019:369)",
        "4 kap. 13-14 §§ vägtrafikdataförordningen (2019:382)",
    ],
}
"""004 Bilaga 2, point by point (2.1.1 to 2.8.2): the start of each statute's citation."""


async def test_the_catalogue_names_every_legal_basis_of_bilaga_2(served: Served) -> None:
    """004 Bilaga 2 § 1.1: "Denna bilaga 2 beskriver laglig grund för Uppgiftslämnares
    elektroniska utlämnande av personuppgifter." DescribeProviders lists, per provider,
    every statute Bilaga 2 gives, in its order: for example 2.2.3, 2.3.5, 2.5.4 and 2.7.1
    "11 kap. 11 § socialtjänstlagen (2001:453)" for CSN, Försäkringskassan,
    Pensionsmyndigheten and the unemployment funds."""
    described = await served.queries_stub.DescribeProviders(
        pb.DescribeProvidersRequest(), timeout=10
    )
    listed = {d.provider: list(d.legal_basis) for d in described.providers}
    assert set(listed) == set(BILAGA_2)
    for provider, citations in BILAGA_2.items():
        assert len(listed[provider]) == len(citations), pb.Provider.Name(provider)
        for statute, citation in zip(listed[provider], citations, strict=True):
            assert statute.startswith(citation), (pb.Provider.Name(provider), statute)
    sol_11_11 = "11 kap. 11 § socialtjänstlagen (2001:453)"
    assert {p for p, statutes in listed.items() if sol_11_11 in statutes} == {
        pb.PROVIDER_CSN,
        pb.PROVIDER_FORSAKRINGSKASSAN,
        pb.PROVIDER_PENSIONSMYNDIGHETEN,
        pb.PROVIDER_UNEMPLOYMENT_FUNDS,
    }


@pytest.fixture
async def escalations(
    durable_store_settings: Settings,
) -> AsyncIterator[tuple[epb_grpc.EscalationServiceAsyncStub, ServiceManagement]]:
    clock = FakeClock(dt.datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM))
    management = build_service_management(durable_store_settings, clock=clock)
    server = grpc.aio.server(interceptors=interceptor_chain())
    for register in management.registrations():
        register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield epb_grpc.EscalationServiceStub(channel), management
    finally:
        await server.stop(grace=None)
        management.close()


def dispute_party(number: str, role: int) -> epb.DisputeParty:
    return epb.DisputeParty(organisation_number=number, role=role)  # type: ignore[arg-type]


async def test_a_missing_view_does_not_hold_up_the_ladder_and_is_recorded(
    escalations: tuple[epb_grpc.EscalationServiceAsyncStub, ServiceManagement],
) -> None:
    """004 § 10.2: "Första nivån utgör Tjänstens objektstyrgrupp. Det åligger
    objektstyrgruppen att ta fram underlag och formulera rekommendationer till nästa nivå.
    Det åligger varje Part att vid behov formulera sin syn på problemet."
    The municipality gives its view, the operator does not; the recommendation is made and
    the dispute reaches level 2; the escalation shows who gave a view and who did not, and
    the recommendation's event records the operator as without a view."""
    stub, management = escalations
    municipality = dispute_party(DEMO, epb.DISPUTE_PARTY_ROLE_MUNICIPALITY)
    operator = dispute_party("202100-5521", epb.DISPUTE_PARTY_ROLE_OPERATOR)
    by_municipality = epb.DisputeActor(party=municipality)
    raised = await stub.RaiseDispute(
        epb.RaiseDisputeRequest(
            raised_by=by_municipality, parties=[municipality, operator], subject="DNR-2026/19"
        )
    )
    escalation_id = raised.escalation.escalation_id
    await stub.EscalateDispute(
        epb.EscalateDisputeRequest(escalation_id=escalation_id, by=by_municipality)
    )
    await stub.SubmitView(
        epb.SubmitViewRequest(escalation_id=escalation_id, by=by_municipality, view="SYN-1")
    )
    await stub.RecordRecommendation(
        epb.RecordRecommendationRequest(escalation_id=escalation_id, recommendation="REK-1")
    )
    at_2 = (
        await stub.EscalateDispute(
            epb.EscalateDisputeRequest(escalation_id=escalation_id, by=by_municipality)
        )
    ).escalation
    assert (at_2.level, list(at_2.recommendations)) == (2, ["REK-1"])
    assert [(v.party.organisation_number, v.view) for v in at_2.views] == [(DEMO, "SYN-1")]
    assert [p.organisation_number for p in at_2.missing_views] == ["202100-5521"]

    application = management.escalations
    events = [
        application.mapper.to_domain_event(n)
        for n in application.recorder.select_notifications(1, 1000)
    ]
    (recorded,) = [e for e in events if isinstance(e, Escalation.RecommendationRecorded)]
    assert recorded.without_view == ["2021005521"]

    stored = application.mapper.to_stored_event(recorded)
    state = application.mapper.transcoder.decode(stored.state)
    del state["without_view"]
    del state["class_version"]
    version_1 = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=application.mapper.transcoder.encode(state),
    )
    upcast = application.mapper.to_domain_event(version_1)
    assert isinstance(upcast, Escalation.RecommendationRecorded)
    assert (upcast.recommendation, upcast.without_view) == ("REK-1", [])
