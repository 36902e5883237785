"""Composition of the Parties and Agreements applications from explicit settings.

Each application has its own store (``persistence_env``): its own SQLite file, or its own
tables in the PostgreSQL database, so each notification log holds its own events only.
"""

from __future__ import annotations

from adapters.calendar.swedish_holidays import SwedishHolidays
from adapters.persistence.transcodings import party_transcodings
from application.agreements import Agreements
from application.parties import Parties
from application.ports import Clock, Pseudonymiser
from domain.calendar import WorkingCalendar
from infrastructure.bootstrap import persistence_env
from infrastructure.settings import Settings


def build_parties(
    settings: Settings, *, clock: Clock, pseudonymiser: Pseudonymiser
) -> tuple[Parties, Agreements]:
    """The Parties application (also the query saga's ``AccessPolicy``) and Agreements."""
    parties = Parties(
        env=persistence_env(settings, "parties"),
        clock=clock,
        pseudonymiser=pseudonymiser,
        calendar=WorkingCalendar(SwedishHolidays()),
        transcodings=party_transcodings(),
        decision_ttl_s=settings.access_decision_ttl_s,
    )
    agreements = Agreements(
        env=persistence_env(settings, "agreements"),
        clock=clock,
        directory=parties,
        transcodings=party_transcodings(),
    )
    return parties, agreements
