"""The report's organisation names, from the Parties application (``OrganisationNames``)."""

from __future__ import annotations

from application.errors import ApplicationError
from application.parties import Parties


class PartyNames:
    def __init__(self, parties: Parties) -> None:
        self._parties = parties

    def name_of(self, organisation: str) -> str | None:
        try:
            return self._parties.party(organisation).name
        except ApplicationError:  # not a party, or not an organisation number
            return None
