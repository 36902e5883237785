"""The ``CaseworkerRoster`` aggregate: a municipality's caseworkers and their authorisation.

A caseworker is known here only by a keyed pseudonym (the application makes it from the
organisation number and the caseworker's id, exactly as the query saga does); the id itself
never reaches an event. A caseworker may query only after signing the assurance
(Försäkran, 004 § 9.2.9); the municipality revokes the authorisation at once on misuse and
removes it when the caseworker leaves or changes tasks (004 § 12.4.5).

The roster is its own aggregate, beside the ``Party``: caseworkers come and go every week,
while a party's onboarding and leaving happen a few times in its life, so the two never
compete for the same version.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Final
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate

from domain.clauses import RuleBrokenError
from domain.errors import DomainError
from domain.party.rules import local_date
from domain.party.values import AccessRefusal, Caseworker, CaseworkerState, RemovalReason

ROSTER_NAMESPACE: Final = uuid.UUID("0c6f4f7e-8a55-4f0b-b1d2-7c4e9d3a2e16")


def roster_id(organisation: str) -> UUID:
    """The roster's aggregate id: a name-based UUID of the municipality's ten digits."""
    return uuid.uuid5(ROSTER_NAMESPACE, organisation)


class UnknownCaseworkerError(DomainError):
    """The municipality has no such caseworker (the message never holds the id)."""

    def __init__(self) -> None:
        super().__init__("no such caseworker")


class CaseworkerRoster(Aggregate):
    """The caseworkers of one municipality's social welfare committee."""

    class Opened(Aggregate.Created):
        organisation: str

        def apply(self, aggregate: CaseworkerRoster) -> None:
            aggregate.organisation = self.organisation

    class CaseworkerRegistered(Aggregate.Event):
        caseworker: str
        registered_on: dt.date

        def apply(self, aggregate: CaseworkerRoster) -> None:
            aggregate.caseworkers[self.caseworker] = Caseworker(self.caseworker, self.registered_on)

    class AssuranceSigned(Aggregate.Event):
        caseworker: str
        signed_on: dt.date

        def apply(self, aggregate: CaseworkerRoster) -> None:
            aggregate.update(self.caseworker, assurance_signed_on=self.signed_on)

    class CaseworkerRevoked(Aggregate.Event):
        """Revoked for misuse, with immediate effect."""

        caseworker: str
        revoked_on: dt.date

        def apply(self, aggregate: CaseworkerRoster) -> None:
            aggregate.update(self.caseworker, revoked_on=self.revoked_on)

    class CaseworkerRemoved(Aggregate.Event):
        caseworker: str
        reason: RemovalReason
        removed_on: dt.date

        def apply(self, aggregate: CaseworkerRoster) -> None:
            aggregate.update(
                self.caseworker, removed_on=self.removed_on, removal_reason=self.reason
            )

    def __init__(self) -> None:
        self.organisation = ""
        self.caseworkers: dict[str, Caseworker] = {}

    def update(self, pseudonym: str, **changes: Any) -> None:
        self.caseworkers[pseudonym] = attrs.evolve(self.caseworkers[pseudonym], **changes)

    @classmethod
    def open(cls, *, organisation: str, at: dt.datetime) -> CaseworkerRoster:
        return cls._create(
            cls.Opened, id=roster_id(organisation), timestamp=at, organisation=organisation
        )

    def register(self, pseudonym: str, *, at: dt.datetime) -> None:
        known = self.caseworkers.get(pseudonym)
        if known is not None and known.state is not CaseworkerState.REMOVED:
            raise RuleBrokenError(
                "a caseworker is registered once until removed (a revoked one is removed first)",
                "004 § 12.4.5",
            )
        self.trigger_event(
            self.CaseworkerRegistered,
            timestamp=at,
            caseworker=pseudonym,
            registered_on=local_date(at),
        )

    def sign_assurance(self, pseudonym: str, signed_on: dt.date, *, at: dt.datetime) -> None:
        """The caseworker has filled in and signed the assurance (004 § 9.2.9, 12.4.3)."""
        caseworker = self._current(pseudonym)
        if caseworker.state is CaseworkerState.REVOKED:
            raise RuleBrokenError(
                "an assurance does not restore an authorisation revoked for misuse",
                "004 § 12.4.5",
            )
        if caseworker.state is CaseworkerState.AUTHORISED:
            raise RuleBrokenError("the caseworker has already signed the assurance", "004 § 9.2.9")
        if signed_on > local_date(at):
            raise RuleBrokenError("an assurance cannot be signed in the future", "004 § 9.2.9")
        self.trigger_event(
            self.AssuranceSigned, timestamp=at, caseworker=pseudonym, signed_on=signed_on
        )

    def revoke(self, pseudonym: str, *, at: dt.datetime) -> None:
        """Revoked at once for misuse (004 § 12.4.5)."""
        if self._current(pseudonym).state is CaseworkerState.REVOKED:
            raise RuleBrokenError("the authorisation is already revoked", "004 § 12.4.5")
        self.trigger_event(
            self.CaseworkerRevoked, timestamp=at, caseworker=pseudonym, revoked_on=local_date(at)
        )

    def remove(self, pseudonym: str, reason: RemovalReason, *, at: dt.datetime) -> None:
        """Removed when the caseworker leaves or changes tasks (004 § 12.4.5)."""
        self._current(pseudonym)
        self.trigger_event(
            self.CaseworkerRemoved,
            timestamp=at,
            caseworker=pseudonym,
            reason=reason,
            removed_on=local_date(at),
        )

    def caseworker(self, pseudonym: str) -> Caseworker:
        """The caseworker as the roster knows them now (a removed one too)."""
        caseworker = self.caseworkers.get(pseudonym)
        if caseworker is None:
            raise UnknownCaseworkerError
        return caseworker

    def refusal(self, pseudonym: str, day: dt.date) -> AccessRefusal | None:
        """Why the caseworker may not query on ``day``, or ``None`` when they may."""
        caseworker = self.caseworkers.get(pseudonym)
        if caseworker is None or caseworker.state is CaseworkerState.REMOVED:
            return AccessRefusal.CASEWORKER_UNKNOWN
        if caseworker.state is CaseworkerState.REVOKED:
            return AccessRefusal.CASEWORKER_REVOKED
        signed_on = caseworker.assurance_signed_on
        if signed_on is None or signed_on > day:
            return AccessRefusal.CASEWORKER_WITHOUT_ASSURANCE
        return None

    def _current(self, pseudonym: str) -> Caseworker:
        caseworker = self.caseworkers.get(pseudonym)
        if caseworker is None or caseworker.state is CaseworkerState.REMOVED:
            raise UnknownCaseworkerError
        return caseworker
