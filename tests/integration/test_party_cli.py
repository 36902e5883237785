"""``ssbtek party ...`` and ``ssbtek agreement ...`` against a real in-process server."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from adapters.grpc.party_servicer import register_party_services
from adapters.grpc.server import interceptor_chain
from application.demo import seed_demo
from infrastructure.party_cli import add_party_commands
from infrastructure.settings import Settings, Store
from tests.integration.party_world import DEMO, DEMO_DIGITS, MONDAY_MORNING, World, open_world


@pytest.fixture
async def served() -> AsyncIterator[tuple[World, str]]:
    world = open_world(Settings(store=Store.MEMORY, pseudonym_key_hex="33" * 32))
    seed_demo(world.parties, world.agreements, MONDAY_MORNING)
    server = grpc.aio.server(interceptors=interceptor_chain())
    for register in register_party_services(world.parties, world.agreements):
        register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield world, f"127.0.0.1:{port}"
    await server.stop(grace=1)
    world.close()


async def ssbtek(target: str, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ssbtek")
    add_party_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([*argv, "--target", target])
    code: int = await asyncio.to_thread(args.handler, args)
    return code


async def test_the_party_commands_show_status_caseworkers_and_deadlines(
    served: tuple[World, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    world, target = served
    assert await ssbtek(target, "party", "list") == 0
    assert await ssbtek(target, "party", "show", DEMO) == 0
    assert await ssbtek(target, "party", "register-caseworker", DEMO, "HL000002") == 0
    assert await ssbtek(target, "party", "caseworkers", DEMO) == 0
    assert await ssbtek(target, "party", "withdraw", DEMO) == 0
    assert await ssbtek(target, "party", "deadlines", DEMO) == 0
    out = capsys.readouterr().out
    assert "Demo kommun" in out
    assert "connected" in out
    assert world.saga_pseudonym(DEMO_DIGITS, "HL000002") in out
    assert "HL000002" not in out
    assert "withdrawal effective" in out
    assert "2026-12-31" in out


async def test_a_refused_command_exits_2_naming_the_rule_and_the_clause(
    served: tuple[World, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, target = served
    assert await ssbtek(target, "party", "terminate", DEMO) == 2
    err = capsys.readouterr().err
    assert "FAILED_PRECONDITION" in err
    assert "there is no open breach notice (004 § 18.1)" in err


async def test_the_agreement_commands_show_documents_fees_and_an_invoice(
    served: tuple[World, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    _, target = served
    assert await ssbtek(target, "agreement", "governing", "--on", "2022-01-01") == 0
    assert await ssbtek(target, "agreement", "fees") == 0
    assert (
        await ssbtek(
            target, "agreement", "invoice", DEMO, "--year", "2026", "--population", "984748"
        )
        == 0
    )
    assert await ssbtek(target, "agreement", "acknowledge", "GENERAL_TERMS", "1.0", DEMO) == 0
    out = capsys.readouterr().out
    assert "service description and terms" in out
    assert "0.80" in out
    assert "590848.80 SEK" in out
    assert "pending" in out
