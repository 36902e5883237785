"""Canary test for the v10 SOAP path, on SQLite and on a real PostgreSQL.

Queries go through the SOAP facade (zeep, real socket) with canary values in every
personal and free-text field v10 has: personidentitet (and the extension header's extra
subjects), arendeidentitet, handlaggare, the organisation's namn, syfte, lagtext and
korrelationsid; the base services answer with canary records. Afterwards every stored
byte, every captured log line and every fault the caller got are searched for them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import AsyncIterator

import pytest
import zeep.exceptions
from lxml import etree

from adapters.soap.contract import EXT
from application.queries import Queries
from infrastructure.composition import build_queries
from infrastructure.settings import Settings
from tests import canaries
from tests.fakes import FakeClock
from tests.integration.soap.v10 import V10Client, serving
from tests.integration.test_personal_data_never_rests import (
    ANSWER_TEXT,
    WEDNESDAY_MORNING,
    canary_base_services,
    stored_bytes,
    stored_topics,
)

RNG = random.Random(20_261_206)
SUBJECTS = [canaries.personnummer(RNG, coordination=i == 1) for i in range(4)]
CASE_IDS = [canaries.text("CASE") for _ in range(2)]
CASEWORKER_IDS = [canaries.text("HL") for _ in range(2)]
FREE_TEXT = {
    "namn": canaries.text("NAMN"),
    "korrelationsid": canaries.text("KORR"),
    "syfte": f"Ekonomiskt bistånd {canaries.text('SYFTE')}",
    "lagtext": f"11 kap. 11 § socialtjänstlagen {canaries.text('LAG')}",
}


def wrong_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def hunted() -> list[bytes]:
    values = [form for s in SUBJECTS for form in canaries.forms(s)]
    values += [form for s in SUBJECTS for form in canaries.forms(wrong_check_digit(s))]
    values += [*CASE_IDS, *CASEWORKER_IDS, ANSWER_TEXT, *FREE_TEXT.values()]
    values += [text.split()[-1] for text in FREE_TEXT.values()]
    return [v.encode() for v in values]


def general(index: int, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "korrelationsid": FREE_TEXT["korrelationsid"],
        "fraganSkallInkluderasISvaret": True,
        "ingivare": {
            "organisationsnummer": "162120000142",
            "namn": FREE_TEXT["namn"],
            "handlaggare": CASEWORKER_IDS[index],
        },
        "personidentitet": SUBJECTS[index * 2],
        "arendeidentitet": CASE_IDS[index],
        "tidsperiod": {"fromDatum": dt.date(2026, 1, 1), "tomDatum": dt.date(2026, 10, 31)},
        "syfte": FREE_TEXT["syfte"],
        "lagtext": FREE_TEXT["lagtext"],
    }
    values.update(overrides)
    return values


@pytest.fixture
async def running(durable_store_settings: Settings) -> AsyncIterator[tuple[V10Client, Queries]]:
    queries = build_queries(
        durable_store_settings,
        base_services=canary_base_services(),
        clock=FakeClock(WEDNESDAY_MORNING),
    )
    async with serving(queries) as client:
        yield client, queries
    queries.close()


async def ask(client: V10Client) -> tuple[bytes, bytes]:
    """Two answered queries (two subjects each, the second by the extension header) and
    three refused ones; returns what was delivered and what the faults said."""
    delivered, faults = b"", b""
    specific = {tag: {"inkludera": True} for tag in ("AF", "CSN", "FK", "SKV", "SO", "TNS", "MIV")}
    for index in range(2):
        more = etree.Element(f"{{{EXT}}}ytterligarePersoner", nsmap={"ext": EXT})
        etree.SubElement(more, f"{{{EXT}}}personidentitet").text = SUBJECTS[index * 2 + 1]
        call = client.client.service.hamtaBastjanstInformation
        await asyncio.to_thread(
            call,
            generellaFrageparametrar=general(index),
            specifikaFrageparametrar=specific,
            _soapheaders=[more],
        )
        delivered += etree.tostring(client.received())
    refusals = [
        general(0, personidentitet=wrong_check_digit(SUBJECTS[0])),  # the saga's rule
        general(1, personidentitet=SUBJECTS[2][:8] + "-" + SUBJECTS[2][8:]),  # the schema's
        general(0, syfte=f"Kontroll {FREE_TEXT['syfte'].split()[-1]}"),  # no purpose maps
    ]
    for refused in refusals:
        with pytest.raises(zeep.exceptions.Fault) as raised:
            await asyncio.to_thread(
                client.client.service.hamtaBastjanstInformation,
                generellaFrageparametrar=refused,
                specifikaFrageparametrar=specific,
            )
        faults += etree.tostring(raised.value.detail) + str(raised.value).encode()
    return delivered, faults


async def test_no_personal_value_of_the_soap_path_rests_or_reaches_a_log_or_a_fault(
    running: tuple[V10Client, Queries],
    durable_store_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client, queries = running
    delivered, faults = await ask(client)

    # The canaries really travelled, so their absence below means something.
    assert ANSWER_TEXT.encode() in delivered
    assert SUBJECTS[1].encode() in delivered  # the extra subject's answer, in the header
    assert FREE_TEXT["korrelationsid"].encode() in delivered  # echoed to the caller
    assert b"INVALID_ARGUMENT" in faults
    assert b"SCHEMA_VIOLATION" in faults

    queries.close()
    stored = stored_bytes(durable_store_settings)
    client_side = ("zeep", "urllib3")  # the caller's own libraries log what it sends
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(client_side)
    ).encode()
    assert b"soap:hamtaBastjanstInformation" in logged  # the access log was captured
    for value in hunted():
        assert value not in stored, "a personal value was stored"
        assert value.hex().encode() not in stored.lower(), "a personal value was stored (bytea)"
        assert value not in logged, "a personal value was logged"
        assert value not in faults, "a personal value was in a fault"

    topics = stored_topics(durable_store_settings)
    assert topics.count("Query.Received") == 2
    assert topics.count("Query.CaseDataErased") == 2
    assert topics.count("Query.Rejected") == 3  # the schema's refusal too: field names only
