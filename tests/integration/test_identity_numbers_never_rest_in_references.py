"""No personal identity number rests through a reference or a name (issue 18; ADR 0004).

Hypothesis hides personnummer and samordningsnummer in references every way a person
could write them (``tests/hidden_identity_numbers.py``) and sends each, over a real gRPC
socket with grpc's own client, in every caller-supplied text field that reaches an event:
an incident reporter's reference, a planned change's reference, a known error, a
dispute's subject, a power of attorney, an outcome, a view, a recommendation, a group,
material, a decision, a party's name and a document's version number. Each must be
refused with ``INVALID_ARGUMENT`` naming the field and the rule. The same requests with
clean values are then accepted (the refusals were the values'), and every store is
hunted for every hidden number: the SQLite files; on PostgreSQL the event tables, a
``pg_dump`` and the whole data directory of a private cluster; and every log record.
The clean values must be found there (the hunt can see what is stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import shutil
import string
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import grpc
import psycopg
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from google.type.date_pb2 import Date
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2 as apb
from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2_grpc as apb_grpc
from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2 as epb
from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2_grpc as epb_grpc
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as ipb
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2_grpc as ipb_grpc
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as ppb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2_grpc as ppb_grpc
from adapters.grpc.party_servicer import register_party_services
from adapters.grpc.server import interceptor_chain
from adapters.security.pseudonymiser import HmacPseudonymiser
from application.demo import seed_demo
from domain.escalation.values import Acting, Forum, Party
from domain.incident.reporter import Reporter
from domain.incident.service_levels import Impact, Priority
from domain.party.values import PartyRole
from domain.providers import STOCKHOLM
from domain.reference import IDENTITY_NUMBER_RULE
from infrastructure.composition import build_parties, build_service_management
from infrastructure.settings import PostgresSettings, Settings, Store
from tests import canaries
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock
from tests.hidden_identity_numbers import (
    Hidden,
    hidden_identity_numbers,
    hidden_in_version_numbers,
)
from tests.reliability.private_postgres import PrivatePostgres

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)  # a Wednesday morning
MUNICIPALITY = Party("2120000142", PartyRole.MUNICIPALITY)
OPERATOR = Party("2021005521", PartyRole.OPERATOR)
SKR = "222000-0315"
EXAMPLES = 120


def _party(party: Party) -> epb.DisputeParty:
    role = epb.DisputePartyRole.Value(f"DISPUTE_PARTY_ROLE_{party.role.name}")
    return epb.DisputeParty(organisation_number=party.organisation_number, role=role)


def _at(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(dt.UTC))
    return stamp


@attrs.frozen
class Prepared:
    """Aggregates in the state where each field's call would be accepted."""

    problem: str
    council: str
    level_1: str
    level_1_with_views: str
    level_2: str
    material_requested: str
    level_2_to_decide: str


Call = tuple[Callable[[grpc.Channel], Any], str, Message]


def fields(prepared: Prepared) -> dict[str, Callable[[str], Call]]:
    """Each field that reaches an event -> the call carrying ``text`` in it."""
    escalations = epb_grpc.EscalationServiceStub
    incidents = ipb_grpc.IncidentServiceStub
    council_parties = [_party(MUNICIPALITY), _party(OPERATOR)]
    skr = epb.DisputeParty(organisation_number=SKR, role=epb.DISPUTE_PARTY_ROLE_SKR)
    window = dt.datetime(2027, 1, 8, 18, 0, tzinfo=STOCKHOLM)  # a Friday evening, 6 weeks on
    return {
        "reporter.reference": lambda t: (
            incidents,
            "RegisterIncident",
            ipb.RegisterIncidentRequest(
                reporter=ipb.IncidentReporter(organisation_number="212000-0142", reference=t),
                impact=ipb.INCIDENT_IMPACT_TIMEOUTS,
            ),
        ),
        "reference": lambda t: (
            incidents,
            "AnnounceChange",
            ipb.AnnounceChangeRequest(
                reference=t,
                window_start=_at(window),
                window_end=_at(window + dt.timedelta(hours=3)),
            ),
        ),
        "known_error": lambda t: (
            incidents,
            "EstablishKnownError",
            ipb.EstablishKnownErrorRequest(problem_id=prepared.problem, known_error=t),
        ),
        "subject": lambda t: (
            escalations,
            "RaiseDispute",
            epb.RaiseDisputeRequest(
                raised_by=epb.DisputeActor(party=_party(MUNICIPALITY)),
                parties=council_parties,
                subject=t,
            ),
        ),
        "raised_by.power_of_attorney": lambda t: (
            escalations,
            "RaiseDispute",
            epb.RaiseDisputeRequest(
                raised_by=epb.DisputeActor(
                    party=skr, on_behalf_of=_party(MUNICIPALITY), power_of_attorney=t
                ),
                parties=council_parties,
                subject="DNR-2026/7",
            ),
        ),
        "outcome": lambda t: (
            escalations,
            "SettleDispute",
            epb.SettleDisputeRequest(escalation_id=prepared.council, outcome=t),
        ),
        "view": lambda t: (
            escalations,
            "SubmitView",
            epb.SubmitViewRequest(
                escalation_id=prepared.level_1,
                by=epb.DisputeActor(party=_party(MUNICIPALITY)),
                view=t,
            ),
        ),
        "recommendation": lambda t: (
            escalations,
            "RecordRecommendation",
            epb.RecordRecommendationRequest(
                escalation_id=prepared.level_1_with_views, recommendation=t
            ),
        ),
        "group": lambda t: (
            escalations,
            "RequestMaterial",
            epb.RequestMaterialRequest(
                escalation_id=prepared.level_2, from_forum=epb.DISPUTE_FORUM_OTHER_GROUP, group=t
            ),
        ),
        "material": lambda t: (
            escalations,
            "ProvideMaterial",
            epb.ProvideMaterialRequest(escalation_id=prepared.material_requested, material=t),
        ),
        "decision": lambda t: (
            escalations,
            "DecideDispute",
            epb.DecideDisputeRequest(escalation_id=prepared.level_2_to_decide, decision=t),
        ),
        "name": lambda t: (
            ppb_grpc.PartyServiceStub,
            "ApplyToJoin",
            ppb.ApplyToJoinRequest(
                organisation_number="212000-1355", name=t, role=ppb.PARTY_ROLE_MUNICIPALITY
            ),
        ),
        "version": lambda t: (
            apb_grpc.AgreementServiceStub,
            "AnnounceDocumentVersion",
            apb.AnnounceDocumentVersionRequest(
                document=apb.AGREEMENT_DOCUMENT_GENERAL_TERMS,
                version=t,
                effective_from=Date(year=2027, month=1, day=1),
            ),
        ),
    }


FIELD_NAMES = list(fields(Prepared("", "", "", "", "", "", "")))


class Served:
    """The party, agreement, incident and escalation services on one store, served by a
    grpc.aio server on its own event loop in a thread, for grpc's blocking client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        clock = FakeClock(NOW)
        pseudonymiser = HmacPseudonymiser(bytes.fromhex(settings.pseudonym_key_hex))
        self.parties, self.agreements = build_parties(
            settings, clock=clock, pseudonymiser=pseudonymiser
        )
        seed_demo(self.parties, self.agreements, NOW)
        self.management = build_service_management(settings, clock=clock)
        self.prepared = self._prepare()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(60)

    async def _start(self) -> int:
        self._server = grpc.aio.server(interceptors=interceptor_chain())
        for register in [
            *register_party_services(self.parties, self.agreements),
            *self.management.registrations(),
        ]:
            register(self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        await self._server.start()
        return port

    def _prepare(self) -> Prepared:
        incidents, escalations = self.management.incidents, self.management.escalations
        incident = incidents.register_incident(
            Reporter.organisation("212000-0142", "INC-PREP-1"), Impact.TIMEOUTS
        )
        problem = incidents.register_problem([incident], Priority.HIGH)
        incidents.start_problem_investigation(problem)

        def dispute(stage: str) -> str:
            case = escalations.raise_dispute(
                Acting(MUNICIPALITY), [MUNICIPALITY, OPERATOR], "DNR-PREP-1"
            )
            if stage == "council":
                return str(case)
            escalations.escalate(case, Acting(MUNICIPALITY))
            if stage == "level_1":
                return str(case)
            escalations.submit_view(case, Acting(MUNICIPALITY), "VIEW-PREP-M")
            escalations.submit_view(case, Acting(OPERATOR), "VIEW-PREP-O")
            if stage == "level_1_with_views":
                return str(case)
            escalations.record_recommendation(case, "REC-PREP-1")
            escalations.escalate(case, Acting(OPERATOR))
            if stage == "level_2":
                return str(case)
            escalations.request_material(case, Forum.OTHER_GROUP, "GROUP-PREP-1")
            return str(case)

        return Prepared(
            problem=str(problem),
            council=dispute("council"),
            level_1=dispute("level_1"),
            level_1_with_views=dispute("level_1_with_views"),
            level_2=dispute("level_2"),
            material_requested=dispute("material_requested"),
            level_2_to_decide=dispute("level_2"),
        )

    def call(self, field: str, text: str) -> grpc.RpcError | None:
        stub_class, method, request = fields(self.prepared)[field](text)
        with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            try:
                getattr(stub_class(channel), method)(request, timeout=30)
            except grpc.RpcError as error:
                return error
        return None

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._server.stop(grace=1), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self.management.close()
        self.agreements.close()
        self.parties.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL cluster: its whole data directory is this test's to read."""
    pg = PrivatePostgres(Path(tempfile.mkdtemp(prefix="ssbtek-pg-")) / "cluster")
    pg.initialise()
    pg.start()
    pg.create_database("ssbtek")
    yield pg
    with contextlib.suppress(RuntimeError):
        pg.stop()
    shutil.rmtree(pg.directory.parent, ignore_errors=True)


@pytest.fixture(params=[Store.SQLITE, Store.POSTGRES], ids=lambda s: s.value)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    postgres = PostgresSettings()
    if request.param is Store.POSTGRES:
        cluster: PrivatePostgres = request.getfixturevalue("cluster")
        dbname = f"refs_{uuid.uuid4().hex[:10]}"
        cluster.create_database(dbname)
        postgres = PostgresSettings(port=cluster.port, dbname=dbname, pool_size=4)
    return Settings(
        store=request.param,
        data_dir=tmp_path / "var",
        postgres=postgres,
        pseudonym_key_hex=TEST_KEY,
    )


def clean(label: str) -> str:
    """A unique clean reference: letters only, so no identity number can hide in it."""
    letters = "".join(string.ascii_uppercase[int(c, 16)] for c in uuid.uuid4().hex[:14])
    return f"OK-{label.upper().replace('.', '-').replace('_', '-')}-{letters}"


def printable_runs(data: bytes) -> bytes:
    """The printable runs of ``data``: what a stored text would be found in."""
    return b"\n".join(re.findall(rb"[\x20-\x7e]{6,}", data))


def stores(settings: Settings, cluster: PrivatePostgres | None) -> dict[str, bytes]:
    if settings.store is Store.SQLITE:
        files = [f for f in sorted(settings.data_dir.rglob("*")) if f.is_file()]
        assert any(f.name == "escalations.sqlite3" for f in files)
        return {"the SQLite files": printable_runs(b"".join(f.read_bytes() for f in files))}
    assert cluster is not None
    pg = settings.postgres
    with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.dbname) as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        assert "escalations_events" in tables
        rows = [
            str(row).encode()
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"').fetchall()
        ]
    pg_dump = shutil.which("pg_dump") or str(Path(cluster._bin) / "pg_dump")
    dump = subprocess.run(
        [pg_dump, "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "--data-only", pg.dbname],
        capture_output=True,
        check=True,
    ).stdout
    cluster.checkpoint()
    files = [f for f in sorted(cluster.data.rglob("*")) if f.is_file()]
    directory = b"".join(f.read_bytes() for f in files)
    return {
        "the PostgreSQL tables": b"\n".join(rows),
        "pg_dump": dump,
        "the PostgreSQL data directory": printable_runs(directory),
    }


def test_identity_numbers_hidden_in_references_are_refused_and_never_rest(
    store: Settings, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    served = Served(store)
    sent: list[Hidden] = []
    try:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(
            st.sampled_from(FIELD_NAMES).flatmap(
                lambda field: st.tuples(
                    st.just(field),
                    hidden_in_version_numbers()
                    if field == "version"
                    else hidden_identity_numbers(code_shaped=field != "name"),
                )
            )
        )
        def refused(example: tuple[str, Hidden]) -> None:
            field, hidden = example
            sent.append(hidden)
            error = served.call(field, hidden.text)
            assert error is not None, f"{field} accepted an identity number"
            assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
            status = rpc_status.from_call(error)
            assert status is not None
            bad_request = error_details_pb2.BadRequest()
            assert status.details[0].Unpack(bad_request)
            violations = {(v.field, v.description) for v in bad_request.field_violations}
            assert violations == {(field, f"{field} {IDENTITY_NUMBER_RULE}")}
            assert hidden.number[2:].encode() not in status.SerializeToString()

        refused()
        assert {h.number for h in sent}, "hypothesis sent nothing"
        accepted = {field: clean(field) for field in FIELD_NAMES}
        accepted["name"] = f"Kommun {accepted['name']}"
        accepted["version"] = "1.9"
        for field, text in accepted.items():
            assert served.call(field, text) is None, f"{field} refused a clean value"
    finally:
        served.close()

    cluster = request.getfixturevalue("cluster") if store.store is Store.POSTGRES else None
    found = stores(store, cluster)
    found["the log"] = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records).encode()
    assert b"RaiseDispute" in found["the log"]  # the access log was captured
    for where, data in found.items():
        lowered = data.lower()
        if where != "the log":  # bytea is dumped as hex
            for field in ("subject", "decision", "reporter.reference"):
                shown = accepted[field].encode()
                assert shown in data or shown.hex().encode() in lowered, f"{where} shows nothing"
        for hidden in sent:
            for form in [*canaries.forms(hidden.number), hidden.text]:
                value = form.encode()
                assert value not in data, f"an identity number rests in {where}"
                assert value.hex().encode() not in lowered, f"... in {where} (as hex)"
