"""The ``PartyRegister`` aggregate: which organisations are parties, in the order they came.

One register for the whole service, at a fixed id. It lets the application find the
parties that exist when a new one applies (every one of them must accept it, 004 § 9.1.2)
and the addressees of an announced change, without scanning the event store. A party and
its line in the register are saved together, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

from eventsourcing.domain import Aggregate

from domain.clauses import RuleBrokenError

REGISTER_ID: Final = uuid.UUID("a3d5e1c2-6b7f-4e38-9c0d-1f2a3b4c5d6e")


class PartyRegister(Aggregate):
    class Opened(Aggregate.Created):
        def apply(self, aggregate: PartyRegister) -> None:
            pass

    class PartyListed(Aggregate.Event):
        organisation: str

        def apply(self, aggregate: PartyRegister) -> None:
            aggregate.organisations.append(self.organisation)

    def __init__(self) -> None:
        self.organisations: list[str] = []

    @classmethod
    def open(cls, *, at: dt.datetime) -> PartyRegister:
        return cls._create(cls.Opened, id=REGISTER_ID, timestamp=at)

    def list_party(self, organisation: str, *, at: dt.datetime) -> None:
        if organisation in self.organisations:
            raise RuleBrokenError("an organisation is a party once", "004 § 9.1.1")
        self.trigger_event(self.PartyListed, timestamp=at, organisation=organisation)
