"""The Parties and Agreements applications on a store, with a clock the test moves."""

from __future__ import annotations

import datetime as dt

import attrs

from adapters.security.pseudonymiser import HmacPseudonymiser
from application.agreements import Agreements
from application.parties import Parties
from domain.providers import STOCKHOLM
from infrastructure.composition import build_parties
from infrastructure.settings import Settings
from tests.fakes import FakeClock

MONDAY_MORNING = dt.datetime(2026, 3, 2, 9, 0, tzinfo=STOCKHOLM)
DEMO = "212000-0142"
DEMO_DIGITS = "2120000142"
GOTHENBURG = "212000-1355"
SKR = "222000-0315"
OPERATOR = "202100-5521"


@attrs.frozen
class World:
    parties: Parties
    agreements: Agreements
    clock: FakeClock
    pseudonymiser: HmacPseudonymiser

    def saga_pseudonym(self, organisation_digits: str, caseworker_id: str) -> str:
        """What the query saga computes for a caseworker (application/queries.py)."""
        return self.pseudonymiser.pseudonym("caseworker", f"{organisation_digits}|{caseworker_id}")

    def move_to(self, day: dt.date, hour: int = 10) -> dt.datetime:
        moment = dt.datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)
        self.clock.advance(moment - self.clock.now())
        return moment

    def close(self) -> None:
        self.agreements.close()
        self.parties.close()


def open_world(settings: Settings, clock: FakeClock | None = None) -> World:
    clock = clock or FakeClock(MONDAY_MORNING)
    pseudonymiser = HmacPseudonymiser(bytes.fromhex(settings.pseudonym_key_hex))
    parties, agreements = build_parties(settings, clock=clock, pseudonymiser=pseudonymiser)
    return World(parties, agreements, clock, pseudonymiser)
