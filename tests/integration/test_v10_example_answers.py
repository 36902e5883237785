"""Each provider's example answer, as this project renders it (``tests/fixtures/v10``, shaped
after the v10 contract's example answers), read through its v10 adapter over a real socket.

The renderings keep the examples' shape and values; where an example leaves out something
its schema requires (AF's ``AktivetetsRapportDatum``, Skatteverket's ``UnderskottPaKapital``),
or answers in the composite service's envelope (CSN's base64 ``svar``), the fixture is the
provider's own answer with the required part in it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.providers.v10 import build_v10_base_service
from application.ports import BaseService
from domain.identity import PersonalIdentityNumber
from domain.provider_data import (
    ArbetsformedlingenRecord,
    CsnRecord,
    ForsakringskassanRecord,
    MigrationsverketRecord,
    PensionsmyndighetenRecord,
    SkatteverketRecord,
    TransportstyrelsenRecord,
    UnemploymentFundsRecord,
)
from domain.providers import Provider
from domain.query.answer import ProviderRecord
from domain.query.values import Period
from tests.v10_support import close_all

FIXTURES = Path(__file__).parent.parent / "fixtures" / "v10"
SUBJECT = PersonalIdentityNumber.parse("19900101-1239")
FILES = {
    Provider.ARBETSFORMEDLINGEN: "af-response.xml",
    Provider.CSN: "csn-response.xml",
    Provider.FORSAKRINGSKASSAN: "fk-response.json",
    Provider.MIGRATIONSVERKET: "miv-response.xml",
    Provider.PENSIONSMYNDIGHETEN: "pm-response.json",
    Provider.SKATTEVERKET: "skv-response.xml",
    Provider.UNEMPLOYMENT_FUNDS: "so-response.xml",
    Provider.TRANSPORTSTYRELSEN: "tns-response.xml",
}


class CannedServer:
    """Answers every request with one document (HTTP/1.1, 127.0.0.1)."""

    def __init__(self, document: bytes, kind: str) -> None:
        self.document, self.kind = document, kind
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {self.kind}\r\nContent-Length: "
        writer.write(f"{head}{len(self.document)}\r\nConnection: close\r\n\r\n".encode())
        writer.write(self.document)
        await writer.drain()
        writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


Read = Callable[[Provider, Period], Awaitable[ProviderRecord]]


@pytest.fixture
async def read() -> AsyncIterator[Read]:
    servers: list[CannedServer] = []
    made: list[BaseService] = []

    async def reading(provider: Provider, period: Period) -> ProviderRecord:
        name = FILES[provider]
        kind = "application/json" if name.endswith(".json") else "text/xml; charset=utf-8"
        server = CannedServer((FIXTURES / name).read_bytes(), kind)
        servers.append(server)
        service = build_v10_base_service(provider, {"url": await server.start()})
        made.append(service)
        return (await service.fetch(SUBJECT, period)).record

    yield reading
    await close_all(made)
    for server in servers:
        await server.stop()


PERIOD = Period.of(dt.date(2025, 1, 1), dt.date(2026, 10, 31))


async def test_arbetsformedlingen(read: Read) -> None:
    record = await read(Provider.ARBETSFORMEDLINGEN, PERIOD)
    assert record == ArbetsformedlingenRecord(
        protected_identity=False,
        registered_job_seeker=True,
        job_seeker_category="Anställd",
        registered_on=dt.date(2016, 11, 18),
        extent_percent=100,
        unemployment_fund="Test ak",
    )


async def test_csn(read: Read) -> None:
    record = await read(Provider.CSN, PERIOD)
    assert isinstance(record, CsnRecord)
    assert not record.protected_identity
    (payment,) = record.payments
    assert (payment.support_form, payment.payment_date) == ("GRUND", dt.date(2025, 9, 25))
    assert (payment.covers_from, payment.covers_to) == (dt.date(2025, 9, 1), dt.date(2025, 9, 28))
    assert (payment.grant_amount, payment.loan_amount) == (Decimal(3616), Decimal(8060))


async def test_forsakringskassan(read: Read) -> None:
    record = await read(Provider.FORSAKRINGSKASSAN, PERIOD)
    assert isinstance(record, ForsakringskassanRecord)
    (payment,) = record.payments
    assert (payment.benefit_code, payment.benefit_name) == ("BOB", "Bostadsbidrag")
    assert (payment.gross_amount, payment.tax_amount, payment.net_amount) == (
        Decimal(1500),
        Decimal(0),
        Decimal(1500),
    )


async def test_migrationsverket_keeps_the_permits_in_force_in_the_period(read: Read) -> None:
    record = await read(Provider.MIGRATIONSVERKET, PERIOD)
    assert isinstance(record, MigrationsverketRecord)
    (permit,) = record.permits
    assert (permit.kind, permit.validity) == ("PUT", "PERMANENT")
    assert (permit.applied_on, permit.decided_on) == (dt.date(1997, 9, 12), dt.date(1998, 5, 12))
    assert (record.home_country, record.entered_on) == ("NORGE", dt.date(1997, 8, 1))
    before = await read(
        Provider.MIGRATIONSVERKET, Period.of(dt.date(1997, 1, 1), dt.date(1997, 12, 31))
    )
    assert before == MigrationsverketRecord(protected_identity=False)  # not yet decided


async def test_pensionsmyndigheten(read: Read) -> None:
    record = await read(Provider.PENSIONSMYNDIGHETEN, PERIOD)
    assert isinstance(record, PensionsmyndighetenRecord)
    assert record.protected_identity
    (payment,) = record.payments
    assert (payment.gross_amount, payment.net_amount) == (Decimal(9664), Decimal(7369))
    assert [row.code for row in payment.benefits + payment.deductions] == ["PM:AP", "PM:PS"]


async def test_skatteverket(read: Read) -> None:
    record = await read(Provider.SKATTEVERKET, PERIOD)
    assert isinstance(record, SkatteverketRecord)
    assert not record.earned_income
    (capital,) = record.capital_income
    assert (capital.taxation_year, capital.total_capital_income) == (2001, Decimal(12345))
    assert (capital.capital_surplus, capital.capital_deficit) == (Decimal(666), Decimal(0))


async def test_the_unemployment_funds(read: Read) -> None:
    record = await read(Provider.UNEMPLOYMENT_FUNDS, PERIOD)
    assert isinstance(record, UnemploymentFundsRecord)
    (payment,) = record.payments
    assert (payment.fund, payment.payment_date) == ("Testorganisation", dt.date(2013, 11, 23))
    assert (payment.net_after_tax, payment.compensation_days) == (Decimal("1250.50"), Decimal(2))


async def test_transportstyrelsen(read: Read) -> None:
    record = await read(Provider.TRANSPORTSTYRELSEN, PERIOD)
    assert isinstance(record, TransportstyrelsenRecord)
    assert [(v.registration_number, v.make, v.model_year) for v in record.vehicles] == [
        ("ABC001", "Volvo", 2012),
        ("ABC002", "HONDA", 2001),
    ]
