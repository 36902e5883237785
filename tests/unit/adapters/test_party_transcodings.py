"""Every value a party or agreement event carries survives the JSON transcoder unchanged."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import pytest
from eventsourcing.persistence import DecimalAsStr, JSONTranscoder

from adapters.persistence.transcodings import party_transcodings
from domain.agreement.values import AgreementDocument
from domain.party.values import (
    BreachNotifier,
    DecisionBody,
    OrderForm,
    PartyRole,
    RemovalReason,
)
from domain.providers import Provider


@pytest.fixture
def transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in party_transcodings():
        transcoder.register(transcoding)
    return transcoder


@pytest.mark.parametrize(
    "kind", [PartyRole, RemovalReason, BreachNotifier, DecisionBody, AgreementDocument, Provider]
)
def test_every_enum_member_round_trips(transcoder: JSONTranscoder, kind: type[enum.Enum]) -> None:
    members = list(kind)
    assert transcoder.decode(transcoder.encode({"values": members})) == {"values": members}


def test_an_order_form_with_its_date_round_trips(transcoder: JSONTranscoder) -> None:
    form = OrderForm(dt.date(2026, 3, 2), True, True, False)
    assert transcoder.decode(transcoder.encode({"form": form})) == {"form": form}


def test_the_stored_form_names_the_transcoding_not_the_python_class(
    transcoder: JSONTranscoder,
) -> None:
    encoded = transcoder.encode({"role": PartyRole.SKR, "day": dt.date(2026, 6, 30)})
    assert b"ssbtek.party_role" in encoded
    assert b"PartyRole" not in encoded
    assert b"2026-06-30" in encoded


def test_a_fee_is_a_decimal_once_the_application_registers_its_own(
    transcoder: JSONTranscoder,
) -> None:
    transcoder.register(DecimalAsStr())
    assert transcoder.decode(transcoder.encode({"fee": Decimal("0.60")})) == {
        "fee": Decimal("0.60")
    }
