"""Canary test: personal data never rests, on SQLite and on a real PostgreSQL.

Queries go through the real gRPC server (in-process, real channel) to base services
whose every answer holds unique canary values. Afterwards every stored byte (the SQLite
files; a ``pg_dump`` of the whole PostgreSQL database) and every captured log line are
searched for them, and the audit trail of each query must be complete.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from decimal import Decimal

import grpc
import psycopg
import pytest
from google.type.date_pb2 import Date

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.server import build_server
from application.queries import Queries
from domain import provider_data as data
from domain.identity import PersonalIdentityNumber
from domain.providers import STOCKHOLM, Provider
from domain.query.values import Period
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests import canaries
from tests.fakes import FakeBaseService, FakeClock

WEDNESDAY_MORNING = dt.datetime(2026, 11, 25, 9, 30, tzinfo=STOCKHOLM)  # every provider open
RNG = random.Random(8_675_309)
SUBJECTS = [canaries.personnummer(RNG, coordination=i % 3 == 0) for i in range(6)]
CASE_IDS = [canaries.text("CASE") for _ in range(3)]
CASEWORKER_IDS = [canaries.text("HL") for _ in range(3)]
ANSWER_TEXT = canaries.text("ANSWER")
ANSWER_AMOUNT = Decimal(f"{RNG.randint(100_000, 999_999)}.{RNG.randint(10, 99)}")
DAY = dt.date(2026, 6, 25)


def canary_record(provider: Provider) -> object:
    """A realistic record whose text fields and amounts are canary values."""
    text, amount = ANSWER_TEXT, ANSWER_AMOUNT
    match provider:
        case Provider.ARBETSFORMEDLINGEN:
            return data.ArbetsformedlingenRecord(
                protected_identity=True,
                registered_job_seeker=True,
                job_seeker_category=text,
                unemployment_fund=text,
            )
        case Provider.CSN:
            payment = data.StudentFinancePayment(
                text, text, DAY, "Utbetald", DAY, DAY, amount, amount
            )
            return data.CsnRecord(protected_identity=False, payments=(payment,))
        case Provider.FORSAKRINGSKASSAN:
            benefit = data.BenefitPayment("BOB", text, DAY, DAY, DAY, amount, amount, amount)
            return data.ForsakringskassanRecord(protected_identity=False, payments=(benefit,))
        case Provider.MIGRATIONSVERKET:
            permit = data.Permit("UAT", text, "BEV", text, "PUT", text, "PERMANENT", DAY)
            return data.MigrationsverketRecord(False, home_country=text, permits=(permit,))
        case Provider.PENSIONSMYNDIGHETEN:
            pension = data.PensionPayment(DAY, DAY, DAY, amount, amount)
            return data.PensionsmyndighetenRecord(protected_identity=False, payments=(pension,))
        case Provider.SKATTEVERKET:
            income = data.EarnedIncome(2025, amount, amount, amount)
            return data.SkatteverketRecord(protected_identity=False, earned_income=(income,))
        case Provider.UNEMPLOYMENT_FUNDS:
            paid = data.UnemploymentPayment(text, DAY, DAY, DAY, Decimal(5), amount, amount)
            return data.UnemploymentFundsRecord(protected_identity=False, payments=(paid,))
        case Provider.TRANSPORTSTYRELSEN:
            vehicle = data.Vehicle(text[:20], text, 2012, "PERSONBIL", text)
            return data.TransportstyrelsenRecord(protected_identity=False, vehicles=(vehicle,))


def canary_base_services() -> dict[Provider, FakeBaseService]:
    def record_for(provider: Provider) -> object:
        def make(subject: PersonalIdentityNumber, period: Period) -> object:
            return canary_record(provider)

        return make

    services = {p: FakeBaseService(p, record=record_for(p)) for p in Provider}  # type: ignore[arg-type]
    services[Provider.SKATTEVERKET].mode = "fail"  # a BT error message travels too
    return services


def hunted() -> list[bytes]:
    values = [form for s in SUBJECTS for form in canaries.forms(s)]
    values += [*CASE_IDS, *CASEWORKER_IDS, ANSWER_TEXT, str(ANSWER_AMOUNT)]
    return [v.encode() for v in values]


@pytest.fixture
def settings(durable_store_settings: Settings) -> Settings:
    """SQLite and a fresh PostgreSQL database (see tests/conftest.py)."""
    return durable_store_settings


@pytest.fixture
async def running(settings: Settings) -> AsyncIterator[tuple[str, Queries]]:
    queries = build_queries(
        settings, base_services=canary_base_services(), clock=FakeClock(WEDNESDAY_MORNING)
    )
    server, port = await build_server(queries, address="127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", queries
    await server.stop(grace=1)
    queries.close()


async def ask(target: str) -> list[pb.Answer]:
    answers = []
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.QueryServiceStub(channel)
        for index in range(3):
            request = pb.SubmitQueryRequest(
                client_request_id=canaries.text("REQ"),
                asking_organisation=pb.AskingOrganisation(organisation_number="212000-0142"),
                caseworker_id=CASEWORKER_IDS[index],
                case_id=CASE_IDS[index],
                purpose=pb.PURPOSE_FINANCIAL_ASSISTANCE_CASE,
                legal_basis=pb.LEGAL_BASIS_FORORDNING_2008_975,
                period=pb.Period(
                    start=Date(year=2026, month=1, day=1), end=Date(year=2026, month=10, day=31)
                ),
                subjects=SUBJECTS[index * 2 : index * 2 + 2],
            )
            answers.append((await stub.SubmitQuery(request, timeout=30)).answer)
        bad = pb.SubmitQueryRequest(
            caseworker_id=CASEWORKER_IDS[0], case_id=CASE_IDS[0], subjects=[SUBJECTS[0] + "9"]
        )
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.SubmitQuery(bad, timeout=10)
    return answers


def stored_bytes(settings: Settings) -> bytes:
    if settings.store is Store.SQLITE:
        files = sorted(settings.data_dir.rglob("*"))
        assert any(f.name == "queries.sqlite3" for f in files)
        return b"".join(f.read_bytes() for f in files if f.is_file())
    pg = settings.postgres
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump (postgresql-client) is needed to dump every table"
    dump = subprocess.run(
        [pg_dump, "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "--data-only", pg.dbname],
        capture_output=True,
        check=True,
    ).stdout
    assert b"COPY public.queries_events" in dump
    assert b"asking_organisation".hex().encode() in dump  # the state column, dumped as hex
    return dump


def stored_topics(settings: Settings) -> list[str]:
    if settings.store is Store.SQLITE:
        with sqlite3.connect(settings.sqlite_file("queries")) as db:
            rows = db.execute("SELECT topic FROM stored_events ORDER BY rowid").fetchall()
    else:
        pg = settings.postgres
        with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.dbname) as db:
            rows = db.execute(
                "SELECT topic FROM queries_events ORDER BY notification_id"
            ).fetchall()
    return [str(topic).split(":")[-1] for (topic,) in rows]


async def test_no_personal_value_reaches_the_store_or_the_logs_while_the_audit_is_complete(
    running: tuple[str, Queries], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    target, queries = running
    answers = await ask(target)

    # The canaries really were in the answers, so their absence below means something.
    delivered = b"".join(a.SerializeToString() for a in answers)
    assert ANSWER_TEXT.encode() in delivered
    assert SUBJECTS[0].encode() in delivered
    assert all(a.subjects[0].HasField("protected_identity") for a in answers)

    queries.close()
    stored = stored_bytes(settings)
    logged = "\n".join(r.getMessage() for r in caplog.records).encode()
    assert b"SubmitQuery" in logged  # the access log was captured
    for value in hunted():
        # PostgreSQL dumps bytea columns (the events' state) as hex: hunt for both forms.
        assert value not in stored, "a personal value was stored"
        assert value.hex().encode() not in stored.lower(), "a personal value was stored (bytea)"
        assert value not in logged, "a personal value was logged"

    topics = stored_topics(settings)
    assert topics.count("Query.Received") == 3
    assert topics.count("Query.ProviderAnswered") == 0  # the outcomes are in Compiled (v3)
    assert topics.count("Query.Compiled") == 3
    assert topics.count("Query.Delivered") == 3
    assert topics.count("Query.CaseDataErased") == 3
    assert topics.count("Query.Rejected") == 1
