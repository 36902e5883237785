"""The ``Query`` aggregate: the audit trail of one query, with no personal data in it.

Each event records what happened and when: who asked (an organisation number and a
keyed pseudonym of the caseworker), how many subjects, which providers, each call's
outcome and latency, the compilation, the delivery and the erasure of case data.
The subjects, the case, the caseworker and the answers never reach this aggregate.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import DomainError
from domain.providers import Provider
from domain.query.values import (
    CallOutcome,
    EntryPoint,
    LegalBasis,
    OutcomeKind,
    Period,
    ProviderCalls,
    ProviderSelection,
    Purpose,
)


class QueryStateError(DomainError):
    """A command does not fit the query's current state."""


class QueryStatus(enum.Enum):
    RECEIVED = "RECEIVED"
    COMPILED = "COMPILED"
    DELIVERED = "DELIVERED"
    ERASED = "ERASED"
    REJECTED = "REJECTED"
    ABANDONED = "ABANDONED"
    CANCELLED = "CANCELLED"


class RejectionReason(enum.Enum):
    """Why a query was refused before any provider was asked."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    DUPLICATE_REQUEST = "DUPLICATE_REQUEST"
    ORGANISATION_MISMATCH = "ORGANISATION_MISMATCH"
    """The request names another organisation than the caller's client certificate."""
    ORGANISATION_NOT_CONNECTED = "ORGANISATION_NOT_CONNECTED"
    """The asking organisation is not a connected municipality (004 § 9.2.8, § 17-18)."""
    CASEWORKER_UNKNOWN = "CASEWORKER_UNKNOWN"
    CASEWORKER_WITHOUT_ASSURANCE = "CASEWORKER_WITHOUT_ASSURANCE"
    """The caseworker has not signed the assurance (004 § 9.2.9)."""
    CASEWORKER_REVOKED = "CASEWORKER_REVOKED"
    """The caseworker's authorisation was revoked or removed (004 § 12.4.5)."""


class CancelReason(enum.Enum):
    """How the caller went away (the gRPC status its call ended with)."""

    CANCELLED = "CANCELLED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"


def _elapsed_ms(since: dt.datetime, until: dt.datetime) -> int:
    return max(0, round((until - since).total_seconds() * 1000))


class Query(Aggregate):
    """One query from a municipality's case system, as the audit trail knows it."""

    class Received(Aggregate.Created):
        """Version 2 records the entry point the query came through."""

        class_version = 2

        asking_organisation: str
        caseworker_pseudonym: str
        subject_count: int
        selections: list[ProviderSelection]
        purpose: Purpose
        legal_basis: LegalBasis
        period: Period
        deadline: dt.datetime
        entry_point: EntryPoint

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Before version 2 the service had only its gRPC API."""
            state["entry_point"] = EntryPoint.GRPC

        def apply(self, aggregate: Query) -> None:
            aggregate.asking_organisation = self.asking_organisation
            aggregate.caseworker_pseudonym = self.caseworker_pseudonym
            aggregate.subject_count = self.subject_count
            aggregate.selections = list(self.selections)
            aggregate.deadline = self.deadline

    class Rejected(Aggregate.Created):
        """A query refused before any provider was asked. Version 2 records the entry point
        it came through; version 3 who made the call (ADR 24):

        - ``asking_organisation``: the organisation that made the call, whom the refusal is
          counted against: the caller its client certificate proved, or, on a connection
          without one (development only), the organisation the request named. Empty when
          neither is known.
        - ``caller``: the organisation the client certificate proved; empty without one.
        - ``claimed_organisation``: the organisation the request named, when that is not the
          caller (an attempt to act as another organisation); otherwise empty.
        """

        class_version = 3

        asking_organisation: str
        reason: RejectionReason
        fields: list[str]
        entry_point: EntryPoint
        caller: str
        claimed_organisation: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Before version 2 the service had only its gRPC API."""
            state["entry_point"] = EntryPoint.GRPC

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Before version 3 a refusal recorded only the organisation the request named,
            and the caller was never recorded: it stays unknown (``caller`` empty). An
            ``ORGANISATION_MISMATCH`` refusal therefore named the organisation claimed, not
            the one that asked: that number is kept as ``claimed_organisation`` and the
            refusal is counted against no organisation. Every other refusal keeps its
            ``asking_organisation`` (the organisation named, which a certificate had to
            match for the refusals after that check)."""
            state["caller"] = ""
            state["claimed_organisation"] = ""
            reason = state.get("reason")
            mismatch = RejectionReason.ORGANISATION_MISMATCH
            if reason is mismatch or reason == mismatch.value:
                state["claimed_organisation"] = state.get("asking_organisation", "")
                state["asking_organisation"] = ""

        @property
        def impersonation(self) -> bool:
            """An attempt to act as another organisation than the certificate's."""
            return bool(self.claimed_organisation)

        def apply(self, aggregate: Query) -> None:
            aggregate.status = QueryStatus.REJECTED
            aggregate.asking_organisation = self.asking_organisation
            aggregate.reason = self.reason
            aggregate.caller = self.caller
            aggregate.claimed_organisation = self.claimed_organisation

    class ProviderAnswered(Aggregate.Event):
        """One provider's outcomes: written before ``Compiled`` version 3, which carries
        every provider's outcomes itself. Still read, so older streams replay unchanged."""

        provider: Provider
        outcomes: list[CallOutcome]

        def apply(self, aggregate: Query) -> None:
            aggregate.outcomes[self.provider] = list(self.outcomes)

    class Compiled(Aggregate.Event):
        """Every included provider's outcomes (one per subject) and the answer's counts."""

        class_version = 3

        calls: list[ProviderCalls]
        answered: int
        no_data: int
        errors: int
        closed: int
        not_entitled: int
        protected_identity_notices: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 had no "not entitled" outcome: none of its calls were refused."""
            state["not_entitled"] = 0

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Up to version 2 the outcomes were ``ProviderAnswered`` events before this one."""
            state["calls"] = []

        def apply(self, aggregate: Query) -> None:
            for calls in self.calls:
                aggregate.outcomes[calls.provider] = list(calls.outcomes)
            aggregate.status = QueryStatus.COMPILED

    class Delivered(Aggregate.Event):
        elapsed_ms: int

        def apply(self, aggregate: Query) -> None:
            aggregate.status = QueryStatus.DELIVERED
            aggregate.delivered_at = self.timestamp

    class CaseDataErased(Aggregate.Event):
        def apply(self, aggregate: Query) -> None:
            aggregate.status = QueryStatus.ERASED

    class Cancelled(Aggregate.Event):
        """The caller went away before the answer left: no answer was delivered, and the
        case data was dropped with the call. ``reason`` (version 2) says how: ``CANCELLED``
        (the caller cancelled) or ``DEADLINE_EXCEEDED`` (the caller's own deadline passed,
        perhaps after the answer was compiled but before it could be released).
        """

        class_version = 2

        reason: CancelReason

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 did not tell the two apart: the caller's cancellation, as it said."""
            state["reason"] = CancelReason.CANCELLED

        def apply(self, aggregate: Query) -> None:
            aggregate.status = QueryStatus.CANCELLED

    class Abandoned(Aggregate.Event):
        """The query was closed without an answer, and ``reason`` says why.

        ``PROCESS_ENDED``: the process that handled it ended before answering (a crash, a
        kill), recorded by the recovery step once the query's deadline has passed.
        ``AUDIT_UNAVAILABLE``: the trail could not be written in time, so the caller was told
        UNAVAILABLE and got no answer. ``CANCELLED`` or ``DEADLINE_EXCEEDED``: the caller went
        away while the store was down, so ``Cancelled`` could not be written then.
        ``NOT_ANSWERED``: a retry under the same client request id found it still open after
        its attempt had ended. In every case the answer never left, and the case data died
        with the call.
        """

        reason: str

        def apply(self, aggregate: Query) -> None:
            aggregate.status = QueryStatus.ABANDONED

    class Retried(Aggregate.Event):
        """The case system asked again, with the same client request id, for a query that was
        never answered (abandoned or cancelled): the query is received again and run as a new
        attempt. It carries what ``Received`` carries for the new attempt; ``attempt`` counts
        from 2. The store's version check makes it the one attempt that may deliver."""

        attempt: int
        caseworker_pseudonym: str
        subject_count: int
        selections: list[ProviderSelection]
        purpose: Purpose
        legal_basis: LegalBasis
        period: Period
        deadline: dt.datetime
        entry_point: EntryPoint

        def apply(self, aggregate: Query) -> None:
            aggregate.status = QueryStatus.RECEIVED
            aggregate.attempt = self.attempt
            aggregate.attempt_received_at = self.timestamp
            aggregate.caseworker_pseudonym = self.caseworker_pseudonym
            aggregate.subject_count = self.subject_count
            aggregate.selections = list(self.selections)
            aggregate.outcomes = {}
            aggregate.deadline = self.deadline
            aggregate.delivered_at = None

    def __init__(self) -> None:
        self.status = QueryStatus.RECEIVED
        self.attempt = 1
        self.attempt_received_at: dt.datetime | None = None
        """When the current attempt was received (None: the first, at ``created_on``)."""
        self.delivered_at: dt.datetime | None = None
        self.asking_organisation = ""
        self.caseworker_pseudonym = ""
        self.subject_count = 0
        self.selections: list[ProviderSelection] = []
        self.outcomes: dict[Provider, list[CallOutcome]] = {}
        self.reason: RejectionReason | None = None
        self.caller = ""
        """A refused query's caller, as its certificate proved it ("" when none did)."""
        self.claimed_organisation = ""
        """The other organisation a refused query claimed to ask as ("" when none)."""
        self.deadline: dt.datetime | None = None

    @classmethod
    def receive(
        cls,
        *,
        query_id: UUID,
        asking_organisation: str,
        caseworker_pseudonym: str,
        subject_count: int,
        selections: list[ProviderSelection],
        purpose: Purpose,
        legal_basis: LegalBasis,
        period: Period,
        deadline: dt.datetime,
        at: dt.datetime,
        entry_point: EntryPoint = EntryPoint.GRPC,
    ) -> Query:
        _check_asked(subject_count, selections)
        return cls._create(
            cls.Received,
            id=query_id,
            timestamp=at,
            asking_organisation=asking_organisation,
            caseworker_pseudonym=caseworker_pseudonym,
            subject_count=subject_count,
            selections=list(selections),
            purpose=purpose,
            legal_basis=legal_basis,
            period=period,
            deadline=deadline,
            entry_point=entry_point,
        )

    @classmethod
    def reject(
        cls,
        *,
        query_id: UUID,
        asking_organisation: str,
        reason: RejectionReason,
        fields: list[str],
        at: dt.datetime,
        entry_point: EntryPoint = EntryPoint.GRPC,
        caller: str = "",
        claimed_organisation: str = "",
    ) -> Query:
        """Refuse a query. ``asking_organisation`` is whoever made the call (the caller, when
        a certificate proved one); ``claimed_organisation`` the other organisation the
        request named, if it named one."""
        if caller and asking_organisation != caller:
            raise QueryStateError("a refusal is counted against the caller its certificate proved")
        if claimed_organisation and claimed_organisation == asking_organisation:
            raise QueryStateError("the organisation claimed is recorded only when it differs")
        return cls._create(
            cls.Rejected,
            id=query_id,
            timestamp=at,
            asking_organisation=asking_organisation,
            reason=reason,
            fields=sorted(set(fields)),
            entry_point=entry_point,
            caller=caller,
            claimed_organisation=claimed_organisation,
        )

    @property
    def requested_providers(self) -> list[Provider]:
        return [selection.provider for selection in self.selections]

    def compile(
        self,
        *,
        outcomes: Mapping[Provider, Sequence[CallOutcome]],
        protected_identity_notices: int,
        at: dt.datetime,
    ) -> None:
        """Record every included provider's outcomes, one per subject, and the counts."""
        self._require(QueryStatus.RECEIVED)
        requested = self.requested_providers
        if any(provider not in requested for provider in outcomes):
            raise QueryStateError("the provider was not included in the query")
        if any(provider not in outcomes for provider in requested):
            raise QueryStateError("every included provider's outcome must be recorded")
        every_subject = list(range(self.subject_count))
        calls = []
        counts = dict.fromkeys(OutcomeKind, 0)
        for provider in requested:
            ordered = tuple(sorted(outcomes[provider], key=lambda o: o.subject_index))
            if [outcome.subject_index for outcome in ordered] != every_subject:
                raise QueryStateError("there must be one outcome per subject")
            for outcome in ordered:
                counts[outcome.kind] += 1
            calls.append(ProviderCalls(provider, ordered))
        self.trigger_event(
            self.Compiled,
            timestamp=at,
            calls=calls,
            answered=counts[OutcomeKind.ANSWERED],
            no_data=counts[OutcomeKind.NO_DATA],
            errors=counts[OutcomeKind.ERROR],
            closed=counts[OutcomeKind.CLOSED],
            not_entitled=counts[OutcomeKind.NOT_ENTITLED],
            protected_identity_notices=protected_identity_notices,
        )

    @property
    def received_at(self) -> dt.datetime:
        """When the current attempt was received."""
        return self.attempt_received_at or self.created_on

    @property
    def answered(self) -> bool:
        """Whether an answer was delivered (a retry is then refused as a duplicate)."""
        return self.status in (QueryStatus.DELIVERED, QueryStatus.ERASED)

    @property
    def closed_unanswered(self) -> bool:
        """Closed without an answer: a retry under the same client request id runs again."""
        return self.status in (QueryStatus.ABANDONED, QueryStatus.CANCELLED)

    def retry(
        self,
        *,
        caseworker_pseudonym: str,
        subject_count: int,
        selections: list[ProviderSelection],
        purpose: Purpose,
        legal_basis: LegalBasis,
        period: Period,
        deadline: dt.datetime,
        at: dt.datetime,
        entry_point: EntryPoint = EntryPoint.GRPC,
    ) -> None:
        """Receive the query again as a new attempt: only once it was closed unanswered."""
        if not self.closed_unanswered:
            raise QueryStateError(f"the query is {self.status.value}, not closed unanswered")
        _check_asked(subject_count, selections)
        self.trigger_event(
            self.Retried,
            timestamp=at,
            attempt=self.attempt + 1,
            caseworker_pseudonym=caseworker_pseudonym,
            subject_count=subject_count,
            selections=list(selections),
            purpose=purpose,
            legal_basis=legal_basis,
            period=period,
            deadline=deadline,
            entry_point=entry_point,
        )

    def deliver(self, *, at: dt.datetime) -> None:
        """The compiled answer is released to the caller."""
        self._require(QueryStatus.COMPILED)
        self.trigger_event(
            self.Delivered, timestamp=at, elapsed_ms=_elapsed_ms(self.received_at, at)
        )

    def erase_case_data(self, *, at: dt.datetime) -> None:
        """The service keeps no reference to the subjects, the case or the answers."""
        self._require(QueryStatus.DELIVERED)
        self.trigger_event(self.CaseDataErased, timestamp=at)

    def cancel(self, *, reason: CancelReason = CancelReason.CANCELLED, at: dt.datetime) -> None:
        """The caller went away before the answer was released (compiled or not)."""
        if self.status not in (QueryStatus.RECEIVED, QueryStatus.COMPILED):
            raise QueryStateError(f"the query is {self.status.value}, too late to cancel")
        self.trigger_event(self.Cancelled, timestamp=at, reason=reason)

    def abandon(self, *, reason: str, at: dt.datetime, before_deadline: bool = False) -> None:
        """Close a query that was not answered. Only after its deadline, unless the caller
        that handled it knows it ended (``before_deadline``: the trail was unavailable)."""
        if self.status not in (QueryStatus.RECEIVED, QueryStatus.COMPILED):
            raise QueryStateError(f"the query is {self.status.value}, too late to abandon")
        if not before_deadline and self.deadline is not None and at <= self.deadline:
            raise QueryStateError("a query may be abandoned only after its deadline")
        self.trigger_event(self.Abandoned, timestamp=at, reason=reason)

    def _require(self, status: QueryStatus) -> None:
        if self.status is not status:
            raise QueryStateError(f"the query is {self.status.value}, not {status.value}")


def _check_asked(subject_count: int, selections: list[ProviderSelection]) -> None:
    """What a query (first received or received again) must ask for."""
    if subject_count < 1:
        raise QueryStateError("a query covers at least one subject")
    if not selections:
        raise QueryStateError("a query includes at least one provider")
    if len({s.provider for s in selections}) != len(selections):
        raise QueryStateError("a provider is included at most once")
