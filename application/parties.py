"""``Parties``: onboarding, caseworkers and leaving, and who may query (the ``AccessPolicy``,
its recent decisions remembered by ``application.access_memo``, ADR 0014).

Each party is found by a deterministic id made from its organisation number, so no command
and no access decision scans the store; the ``PartyRegister`` lists the parties for the
rare questions about all of them (who must accept a newcomer, who is in force). Raw
caseworker ids are turned into the query saga's keyed pseudonym on arrival and never kept.
Every command reads, changes and saves one consistency boundary; a concurrent writer that
saved first makes the save fail with ``ConflictError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Transcoding

from application.access_memo import AccessMemo, ProviderStanding
from application.base import ServiceApplication
from application.errors import InvalidRequestError, RuleViolationError
from application.party_views import CaseworkerView, PartyView
from application.ports import AccessDecision, Clock, Pseudonymiser
from application.rule_errors import field, reported
from application.validation import MAX_ID_LENGTH
from domain.calendar import WorkingCalendar
from domain.errors import FieldViolation
from domain.identity import OrganisationNumber
from domain.party.aggregate import Party, party_id
from domain.party.register import REGISTER_ID, PartyRegister
from domain.party.roster import CaseworkerRoster, roster_id
from domain.party.rules import local_date
from domain.party.values import (
    AccessRefusal,
    BreachNotifier,
    DecisionBody,
    OrderForm,
    PartyRole,
    RemovalReason,
)
from domain.providers import Provider
from domain.reference import public_name

A = TypeVar("A", bound=Aggregate)
Entry = Callable[[str, PartyRegister, dt.datetime], Party]
PartyChange = Callable[[Party, dt.datetime], None]
RosterChange = Callable[[CaseworkerRoster, str, dt.datetime], None]


class Parties(ServiceApplication):
    """The parties to the agreement, their caseworkers, and the access decision.

    Access decisions are remembered for ``decision_ttl_s`` (``decided``), so a busy
    municipality does not cost two store reads per query. Any change saved through THIS
    application forgets them all at once; a change saved by another process (another
    worker or node on the same database) takes effect here within ``decision_ttl_s``.
    """

    name = "Parties"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "2000"}
    """Cached aggregates are fast-forwarded from the store on every read, so several
    instances on one database stay consistent while ``decide`` reads only new events."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        clock: Clock,
        pseudonymiser: Pseudonymiser,
        calendar: WorkingCalendar,
        transcodings: Sequence[Transcoding],
        decision_ttl_s: float = 1.0,
    ) -> None:
        self._memo = AccessMemo(clock, decision_ttl_s)
        self._provider_of: dict[str, Provider | None] = {}
        """Which base service a party provides: fixed when it is founded or applies."""
        self._clock = clock
        self._pseudonymiser = pseudonymiser
        self._calendar = calendar
        super().__init__(env=env, transcodings=transcodings)

    # -- joining (004 § 9) ------------------------------------------------------------------

    def found(
        self,
        organisation_number: str,
        name: str,
        roles: Sequence[PartyRole],
        provider: Provider | None = None,
    ) -> PartyView:
        """Record a signatory of the Överenskommelse: SKR, the operator, a data provider."""
        return self._join(
            organisation_number,
            lambda organisation, register, at: Party.found(
                organisation=organisation,
                name=_name(name),
                roles=frozenset(roles),
                provider=provider,
                at=at,
            ),
        )

    def apply(
        self,
        organisation_number: str,
        name: str,
        role: PartyRole,
        provider: Provider | None = None,
    ) -> PartyView:
        """A municipality or provider applies to SKR; every party in force must accept it."""
        return self._join(
            organisation_number,
            lambda organisation, register, at: Party.apply_to_join(
                organisation=organisation,
                name=_name(name),
                role=role,
                provider=provider,
                existing_parties=self._in_force(register, local_date(at)),
                at=at,
            ),
        )

    def accept(self, organisation_number: str, accepted_by: str) -> PartyView:
        acceptor = _organisation(accepted_by, "accepted_by")
        return self._change(organisation_number, lambda p, at: p.accept(acceptor, at=at))

    def commission_operator(self, organisation_number: str) -> PartyView:
        return self._change(organisation_number, lambda p, at: p.commission_operator(at=at))

    def submit_order_form(self, organisation_number: str, form: OrderForm) -> PartyView:
        return self._change(organisation_number, lambda p, at: p.submit_order_form(form, at=at))

    def approve_integration(self, organisation_number: str) -> PartyView:
        return self._change(
            organisation_number,
            lambda p, at: p.approve_integration(at=at, calendar=self._calendar),
        )

    def connect(self, organisation_number: str) -> PartyView:
        return self._change(organisation_number, lambda p, at: p.connect(at=at))

    def record_vehicle_register_consent(
        self, organisation_number: str, granted_on: dt.date
    ) -> PartyView:
        return self._change(
            organisation_number,
            lambda p, at: p.record_vehicle_register_consent(granted_on, at=at),
        )

    def withdraw_vehicle_register_consent(self, organisation_number: str) -> PartyView:
        return self._change(
            organisation_number, lambda p, at: p.withdraw_vehicle_register_consent(at=at)
        )

    # -- leaving (004 § 17-18; 001 § 7) ------------------------------------------------------

    def give_withdrawal_notice(self, organisation_number: str) -> PartyView:
        return self._change(organisation_number, lambda p, at: p.give_withdrawal_notice(at=at))

    def notify_breach(self, organisation_number: str, notified_by: BreachNotifier) -> PartyView:
        return self._change(organisation_number, lambda p, at: p.notify_breach(notified_by, at=at))

    def record_breach_remedied(self, organisation_number: str) -> PartyView:
        return self._change(organisation_number, lambda p, at: p.record_breach_remedied(at=at))

    def terminate_for_breach(self, organisation_number: str) -> PartyView:
        return self._change(organisation_number, lambda p, at: p.terminate_for_breach(at=at))

    def record_forced_exit(
        self, organisation_number: str, decided_by: DecisionBody, effective_on: dt.date | None
    ) -> PartyView:
        """``effective_on`` is the first day without access; none means today."""
        return self._change(
            organisation_number,
            lambda p, at: p.record_forced_exit(decided_by, effective_on or local_date(at), at=at),
        )

    def notify_qualification_change(
        self, organisation_number: str, provider_organisation_number: str
    ) -> PartyView:
        provider = self._provider(provider_organisation_number)
        return self._change(
            organisation_number, lambda p, at: p.notify_qualification_change(provider, at=at)
        )

    def record_qualification_compliance(
        self, organisation_number: str, provider_organisation_number: str
    ) -> PartyView:
        provider = _organisation(provider_organisation_number, "provider_organisation_number")
        return self._change(
            organisation_number,
            lambda p, at: p.record_qualification_compliance(provider, at=at),
        )

    def stop_provider_service(
        self, organisation_number: str, provider_organisation_number: str
    ) -> PartyView:
        provider = _organisation(provider_organisation_number, "provider_organisation_number")
        return self._change(
            organisation_number, lambda p, at: p.stop_provider_service(provider, at=at)
        )

    # -- caseworkers (004 § 9.2.9, 12.4.5) -----------------------------------------------------

    def register_caseworker(self, organisation_number: str, caseworker_id: str) -> CaseworkerView:
        return self._change_roster(
            organisation_number, caseworker_id, lambda r, cw, at: r.register(cw, at=at)
        )

    def sign_assurance(
        self, organisation_number: str, caseworker_id: str, signed_on: dt.date
    ) -> CaseworkerView:
        return self._change_roster(
            organisation_number,
            caseworker_id,
            lambda r, cw, at: r.sign_assurance(cw, signed_on, at=at),
        )

    def revoke_caseworker(self, organisation_number: str, caseworker_id: str) -> CaseworkerView:
        return self._change_roster(
            organisation_number, caseworker_id, lambda r, cw, at: r.revoke(cw, at=at)
        )

    def remove_caseworker(
        self, organisation_number: str, caseworker_id: str, reason: RemovalReason
    ) -> CaseworkerView:
        return self._change_roster(
            organisation_number, caseworker_id, lambda r, cw, at: r.remove(cw, reason, at=at)
        )

    # -- queries ---------------------------------------------------------------------------

    def party(self, organisation_number: str) -> PartyView:
        organisation = _organisation(organisation_number)
        with reported("party"):
            party: Party = self._get(party_id(organisation), copy=False)
        return PartyView.of(party, local_date(self._clock.now()))

    def parties(self) -> list[PartyView]:
        day = local_date(self._clock.now())
        register = self._read(REGISTER_ID, PartyRegister)
        organisations = register.organisations if register else []
        return [PartyView.of(self._get(party_id(o), copy=False), day) for o in organisations]

    def caseworkers(self, organisation_number: str) -> list[CaseworkerView]:
        """Every caseworker of the municipality, by pseudonym, removed ones included."""
        organisation = _organisation(organisation_number)
        with reported("party"):
            self._get(party_id(organisation), copy=False)
        roster = self._read(roster_id(organisation), CaseworkerRoster)
        if roster is None:
            raise RuleViolationError("this applies to a municipality only", "004 § 9.2.9")
        return [CaseworkerView.of(c) for c in roster.caseworkers.values()]

    def caseworker(self, organisation_number: str, caseworker_id: str) -> CaseworkerView:
        organisation = _organisation(organisation_number)
        pseudonym = self._pseudonym(organisation, caseworker_id)
        with reported("party"):
            roster: CaseworkerRoster = self._get(roster_id(organisation), copy=False)
            return CaseworkerView.of(roster.caseworker(pseudonym))

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        self._memo.forget_all()  # after the write: a decision read before it is forgotten
        return recordings

    def decided(
        self, organisation_number: str, caseworker_pseudonym: str, at: dt.datetime
    ) -> AccessDecision | None:
        """A remembered decision, if no change was saved here since and it is fresh."""
        return self._memo.decision(organisation_number, caseworker_pseudonym, local_date(at))

    def decide(
        self, organisation_number: str, caseworker_pseudonym: str, at: dt.datetime
    ) -> AccessDecision:
        """The ``AccessPolicy``: may this caseworker of this organisation query at ``at``?"""
        generation = self._memo.generation  # before reading: a change saved meanwhile forgets it
        decision = self._decide(organisation_number, caseworker_pseudonym, at)
        self._memo.remember_decision(
            organisation_number, caseworker_pseudonym, local_date(at), generation, decision
        )
        return decision

    def _decide(
        self, organisation_number: str, caseworker_pseudonym: str, at: dt.datetime
    ) -> AccessDecision:
        try:
            organisation = OrganisationNumber.parse(organisation_number).digits
        except ValueError:
            return AccessDecision(AccessRefusal.ORGANISATION_NOT_CONNECTED.value, False)
        day = local_date(at)
        party = self._read(party_id(organisation), Party)
        if party is None or not party.may_query_on(day):
            return AccessDecision(AccessRefusal.ORGANISATION_NOT_CONNECTED.value, False)
        roster = self._read(roster_id(organisation), CaseworkerRoster)
        refusal = (
            AccessRefusal.CASEWORKER_UNKNOWN
            if roster is None
            else roster.refusal(caseworker_pseudonym, day)
        )
        standing = self._provider_standing(day)
        stopped = frozenset(
            standing.by_organisation[o]
            for o in party.stopped_providers
            if o in standing.by_organisation
        )
        return AccessDecision(
            None if refusal is None else refusal.value,
            party.has_vehicle_register_consent(day),
            providers_not_connected=standing.not_connected,
            providers_stopped=stopped - standing.not_connected,
        )

    def _provider_standing(self, day: dt.date) -> ProviderStanding:
        """The data provider parties and which are not connected on ``day`` (004 § 17.1,
        17.3, 18.1). A provider with no party recorded is asked as before; one whose every
        party is not connected on the day is not. Remembered like an access decision."""
        remembered = self._memo.standing(day)
        if remembered is not None:
            return remembered
        generation = self._memo.generation
        register = self._read(REGISTER_ID, PartyRegister)
        connected: dict[Provider, bool] = {}
        by_organisation: dict[str, Provider] = {}
        for organisation in register.organisations if register else []:
            if organisation not in self._provider_of:
                known = self._read(party_id(organisation), Party)
                self._provider_of[organisation] = None if known is None else known.provider
            provider = self._provider_of[organisation]
            if provider is None:
                continue
            by_organisation[organisation] = provider
            provider_party = self._read(party_id(organisation), Party)
            on = provider_party is not None and provider_party.is_connected_on(day)
            connected[provider] = connected.get(provider, False) or on
        standing = ProviderStanding(
            by_organisation=by_organisation,
            not_connected=frozenset(p for p, on in connected.items() if not on),
        )
        self._memo.remember_standing(day, generation, standing)
        return standing

    # -- the PartyDirectory of the Agreements application -----------------------------------

    def organisations_in_force(self, on: dt.date) -> list[str]:
        """The organisation numbers (ten digits) of the parties connected on ``on``."""
        register = self._read(REGISTER_ID, PartyRegister)
        return self._in_force(register, on) if register else []

    def roles_of(self, organisation: str) -> frozenset[PartyRole] | None:
        party = self._read(party_id(organisation), Party)
        return None if party is None else party.roles

    # -- helpers ---------------------------------------------------------------------------

    def _join(self, organisation_number: str, enter: Entry) -> PartyView:
        """A new party, listed in the register in the same save; a municipality's empty
        roster of caseworkers is opened with it."""
        organisation = _organisation(organisation_number)
        at = self._clock.now()
        with reported("party"):
            register = self._register(at)
            party = enter(organisation, register, at)
            register.list_party(organisation, at=at)
            roster = (
                CaseworkerRoster.open(organisation=organisation, at=at)
                if PartyRole.MUNICIPALITY in party.roles
                else None
            )
            self.save(register, party, roster)
        return PartyView.of(party, local_date(at))

    def _change(self, organisation_number: str, change: PartyChange) -> PartyView:
        organisation = _organisation(organisation_number)
        at = self._clock.now()
        with reported("party"):
            party: Party = self._get(party_id(organisation))
            change(party, at)
            self.save(party)
        return PartyView.of(party, local_date(at))

    def _change_roster(
        self, organisation_number: str, caseworker_id: str, change: RosterChange
    ) -> CaseworkerView:
        organisation = _organisation(organisation_number)
        pseudonym = self._pseudonym(organisation, caseworker_id)
        at = self._clock.now()
        with reported("party"):
            self._municipality(organisation, at)
            roster: CaseworkerRoster = self._get(roster_id(organisation))
            change(roster, pseudonym, at)
            self.save(roster)
            return CaseworkerView.of(roster.caseworker(pseudonym))

    def _municipality(self, organisation: str, at: dt.datetime) -> Party:
        party: Party = self._get(party_id(organisation), copy=False)
        party.require_roster_open(at)
        return party

    def _provider(self, provider_organisation_number: str) -> str:
        provider = _organisation(provider_organisation_number, "provider_organisation_number")
        roles = self.roles_of(provider)
        if roles is None or PartyRole.DATA_PROVIDER not in roles:
            raise InvalidRequestError(
                [FieldViolation("provider_organisation_number", "is not a data provider party")]
            )
        return provider

    def _pseudonym(self, organisation: str, caseworker_id: str) -> str:
        """Exactly the query saga's pseudonym, so its access decision finds this caseworker."""
        text = caseworker_id.strip()
        if not text or len(text) > MAX_ID_LENGTH or not text.isprintable():
            raise InvalidRequestError(
                [
                    FieldViolation(
                        "caseworker_id", f"must be 1 to {MAX_ID_LENGTH} printable characters"
                    )
                ]
            )
        return self._pseudonymiser.pseudonym("caseworker", f"{organisation}|{text}")

    def _register(self, at: dt.datetime) -> PartyRegister:
        register: PartyRegister | None = self._read(REGISTER_ID, PartyRegister, copy=True)
        return register or PartyRegister.open(at=at)

    def _in_force(self, register: PartyRegister, day: dt.date) -> list[str]:
        parties = (self._get(party_id(o), copy=False) for o in register.organisations)
        return [p.organisation for p in parties if isinstance(p, Party) and p.is_connected_on(day)]

    def _get(self, aggregate_id: UUID, *, copy: bool = True) -> Any:
        """A command's own copy of an aggregate; ``copy=False`` for reads only."""
        return self.repository.get(aggregate_id, deepcopy_from_cache=copy)

    def _read(self, aggregate_id: UUID, kind: type[A], *, copy: bool = False) -> A | None:
        try:
            aggregate = self._get(aggregate_id, copy=copy)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None


def _organisation(raw: str, name: str = "organisation_number") -> str:
    with field(name):
        return OrganisationNumber.parse(raw).digits


def _name(raw: str) -> str:
    with field("name"):
        return public_name(raw)
