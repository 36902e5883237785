"""Parties at each step of their life, built through their own commands."""

from __future__ import annotations

import datetime as dt

from adapters.calendar.swedish_holidays import SwedishHolidays
from domain.calendar import WorkingCalendar
from domain.party.aggregate import Party
from domain.party.values import OrderForm, PartyRole
from domain.providers import STOCKHOLM, Provider

CALENDAR = WorkingCalendar(SwedishHolidays())
MUNICIPALITY = "2120000142"
SKR = "2220000315"
OPERATOR = "2021005521"
SKATTEVERKET = "2021005448"
EXISTING = [SKR, OPERATOR, SKATTEVERKET]
COMPLETE_FORM = OrderForm(
    signed_on=dt.date(2026, 3, 2),
    signed_by_authorised_representative=True,
    power_of_attorney_attached=True,
    proof_of_authority_attached=True,
)


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    """A moment on a Swedish day (Europe/Stockholm)."""
    return dt.datetime(year, month, day, hour, tzinfo=STOCKHOLM)


def applied(role: PartyRole = PartyRole.MUNICIPALITY, *, when: dt.datetime | None = None) -> Party:
    return Party.apply_to_join(
        organisation=MUNICIPALITY if role is PartyRole.MUNICIPALITY else "2021006073",
        name="Demo kommun" if role is PartyRole.MUNICIPALITY else "Transportstyrelsen",
        role=role,
        provider=None if role is PartyRole.MUNICIPALITY else Provider.TRANSPORTSTYRELSEN,
        existing_parties=EXISTING,
        at=when or at(2026, 3, 2),
    )


def commissioned(role: PartyRole = PartyRole.MUNICIPALITY) -> Party:
    party = applied(role)
    for existing in EXISTING:
        party.accept(existing, at=at(2026, 3, 3))
    party.commission_operator(at=at(2026, 3, 4))
    return party


def approved(*, on: dt.datetime | None = None) -> Party:
    party = commissioned()
    party.submit_order_form(COMPLETE_FORM, at=at(2026, 3, 5))
    party.record_vehicle_register_consent(dt.date(2026, 3, 5), at=at(2026, 3, 5))
    party.approve_integration(at=on or at(2026, 3, 6), calendar=CALENDAR)
    return party


def connected(*, on: dt.datetime | None = None) -> Party:
    party = approved()
    party.connect(at=on or at(2026, 3, 9))
    return party


def founded_provider() -> Party:
    return Party.found(
        organisation=SKATTEVERKET,
        name="Skatteverket",
        roles=frozenset({PartyRole.DATA_PROVIDER}),
        provider=Provider.SKATTEVERKET,
        at=at(2021, 7, 1),
    )
