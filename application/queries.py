"""``Queries``: the query-aggregation saga on an event-sourced application.

The saga validates, fans out to every included provider for every subject in
parallel, compiles one answer, writes the query's non-personal audit events in ONE
save, and only then releases the answer. Personal data (subjects, case id,
caseworker id, provider answers) lives in local variables of one call and in the
answer handed to the caller; nothing personal is kept on ``self``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from typing import Any, TypedDict
from uuid import UUID

import attrs
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, PersistenceError, Transcoding

from application.base import ServiceApplication
from application.commands import QueryCommand
from application.compilation import compile_answer
from application.errors import (
    AuditUnavailableError,
    DeadlineExceededError,
    DuplicateQueryError,
    InvalidRequestError,
    OverloadedError,
    PermissionDeniedError,
    QueryInProgressError,
)
from application.fan_out import FanOut
from application.group_commit import GroupCommit
from application.pacing import Pace, no_pacing
from application.ports import (
    AccessDecision,
    AccessPolicy,
    BaseService,
    BaseServiceHealth,
    Checkpoints,
    Clock,
    Metrics,
    NoCheckpoints,
    NoMetrics,
    Pseudonymiser,
    RateLimiter,
)
from application.provider_guard import BreakerState, GuardSettings
from application.recovery import Recovery
from application.store_budget import StoreDeadlinePassedError
from application.store_gate import StoreGate, StoreUnavailableError
from application.validation import ValidQuery, validate
from domain.identity import OrganisationNumber
from domain.party.rules import local_date
from domain.providers import CATALOGUE, PROFILES, Provider, ProviderProfile
from domain.query.aggregate import CancelReason, Query, QueryStatus, RejectionReason
from domain.query.answer import CompiledAnswer, ProviderPart
from domain.query.values import (
    EntryPoint,
    LegalBasis,
    OutcomeKind,
    Period,
    ProviderSelection,
    Purpose,
)
from domain.service_level import answer_target

RETRY_GRACE: dt.timedelta = dt.timedelta(seconds=1)
"""Past its attempt's service level (plus this), an open query's call has surely ended."""
RETRY_ROUNDS = 3
"""Tries to take over a query closed unanswered when other calls race for it."""

log = logging.getLogger(__name__)


@attrs.frozen
class SagaSettings:
    """How much of the service level the saga may spend waiting for providers."""

    budget_fraction: float = 0.8
    """Share of the 7 s (+1.5 s per extra subject) target given to the providers."""
    reply_margin_s: float = 0.25
    """Kept back from the caller's own gRPC deadline for compiling and saving."""
    minimum_budget_s: float = 0.05
    check_timeout_s: float = 2.0
    max_in_flight: int = 400
    """Above this many queries in progress, new ones are refused at once (RESOURCE_EXHAUSTED)."""
    store_read_timeout_s: float = 2.5
    """The first write of each query; slower than this, the store gate opens (UNAVAILABLE)."""
    store_probe_interval_s: float = 0.5
    store_probe_timeout_s: float = 1.0
    """A probe of the store slower than this counts as failed (ADR 23)."""
    store_watch_interval_s: float = 0.5
    """With no successful write for this long, the store is probed (ADR 23)."""
    release_margin_s: float = 0.1
    """Kept back from the caller's deadline for handing the answer to the transport."""
    abandon_grace_s: float = 30.0
    """How long past its deadline a query without an answer is left before recovery closes it."""
    guards: GuardSettings = attrs.field(factory=GuardSettings)
    """Each provider's bulkhead and circuit breaker (ADR 20); ``hold_s`` is set from the
    budget for one subject."""

    def budget_s(self, subject_count: int, time_remaining_s: float | None) -> float:
        budget = answer_target(subject_count).total_seconds() * self.budget_fraction
        if time_remaining_s is not None:
            budget = min(budget, time_remaining_s - self.reply_margin_s)
        return max(budget, self.minimum_budget_s)


@attrs.frozen
class ProviderDescription:
    profile: ProviderProfile
    open_now: bool


@attrs.frozen
class ProviderStatus:
    health: BaseServiceHealth
    open_now: bool
    breaker: BreakerState = BreakerState.CLOSED
    unavailable_since: dt.datetime | None = None
    """While the breaker is not closed: since when the provider has not answered."""
    calls_in_progress: int = 0
    call_limit: int = 0


class Queries(ServiceApplication):
    """Receives queries, runs the aggregation saga, and keeps their audit trail."""

    name = "Queries"

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        base_services: Mapping[Provider, BaseService],
        clock: Clock,
        pseudonymiser: Pseudonymiser,
        transcodings: Sequence[Transcoding],
        settings: SagaSettings,
        access_policy: AccessPolicy | None = None,
        metrics: Metrics | None = None,
        rate_limiter: RateLimiter | None = None,
        checkpoints: Checkpoints | None = None,
        store_probe: Callable[[], object] | None = None,
    ) -> None:
        """``access_policy`` None lets every organisation and caseworker ask, with vehicle
        consent: for unit tests and benchmarks only; the composition root always wires
        the Parties application. ``store_probe`` raises when the store cannot be written
        (default: read the log's last notification id)."""
        self._access_policy = access_policy
        self._metrics: Metrics = metrics or NoMetrics()
        self._rate_limiter = rate_limiter
        self._active = 0
        self._gate = StoreGate(
            store_probe or self._probe_store,
            read_timeout_s=settings.store_read_timeout_s,
            probe_interval_s=settings.store_probe_interval_s,
            probe_timeout_s=settings.store_probe_timeout_s,
            watch_interval_s=settings.store_watch_interval_s,
        )
        self._closing: set[asyncio.Task[None]] = set()
        self._base_services = dict(base_services)
        self._clock = clock
        self._pseudonymiser = pseudonymiser
        self._settings = settings
        self._fan_out = FanOut(
            self._base_services,
            clock,
            attrs.evolve(settings.guards, hold_s=settings.budget_s(1, None)),
        )
        self._checkpoints: Checkpoints = checkpoints or NoCheckpoints()
        super().__init__(env=env, transcodings=transcodings)
        self._group = GroupCommit(lambda *events: self.save(*events))
        self.recovery = Recovery(
            self,
            clock,
            grace=dt.timedelta(seconds=settings.abandon_grace_s),
            tracking=self.factory.tracking_recorder(),
        )

    @property
    def store_gate(self) -> StoreGate:
        """Whether the store can be written now; the health reporter listens to it."""
        return self._gate

    async def submit(
        self, command: QueryCommand, *, time_remaining_s: float | None = None
    ) -> CompiledAnswer:
        """Run the whole query and return the compiled answer."""
        async with aclosing(self.stream(command, time_remaining_s=time_remaining_s)) as items:
            async for item in items:
                if isinstance(item, CompiledAnswer):
                    return item
        raise AssertionError("the saga ends with a compiled answer")  # pragma: no cover

    async def stream(
        self, command: QueryCommand, *, time_remaining_s: float | None = None
    ) -> AsyncGenerator[ProviderPart | CompiledAnswer, None]:
        """Yield each provider's part as it arrives, then the compiled answer.

        Counted under the way it ended (ADR 20): ``ANSWERED`` only once the answer was
        handed over; ``CANCELLED`` or ``DEADLINE_EXCEEDED`` when the caller went away
        first; a refusal's code; ``INTERNAL`` when the service failed.
        """
        received_at = self._clock.now()
        started = self._clock.monotonic()
        caller_deadline = None if time_remaining_s is None else started + time_remaining_s
        outcome = "INTERNAL"
        try:
            async with aclosing(
                self._run(command, received_at, time_remaining_s, caller_deadline)
            ) as items:
                async for item in items:
                    if isinstance(item, CompiledAnswer):
                        outcome = "ANSWERED"
                    yield item
        except (InvalidRequestError, PermissionDeniedError, OverloadedError) as refusal:
            outcome = _refusal_code(refusal)
            raise
        except DuplicateQueryError:
            outcome = RejectionReason.DUPLICATE_REQUEST.value
            raise
        except QueryInProgressError:
            outcome = "QUERY_IN_PROGRESS"
            raise
        except AuditUnavailableError:
            outcome = "AUDIT_UNAVAILABLE"
            raise
        except DeadlineExceededError:
            outcome = CancelReason.DEADLINE_EXCEEDED.value
            raise
        except (asyncio.CancelledError, GeneratorExit):
            if outcome != "ANSWERED":  # GeneratorExit after the answer: the caller took it
                outcome = self._gone(caller_deadline).value
            raise
        finally:
            self._metrics.query_finished(
                outcome, self._clock.monotonic() - started, command.entry_point.value
            )

    def _gone(self, caller_deadline: float | None) -> CancelReason:
        """Why a caller went away: its deadline had passed, or it cancelled."""
        if caller_deadline is not None and self._clock.monotonic() >= caller_deadline:
            return CancelReason.DEADLINE_EXCEEDED
        return CancelReason.CANCELLED

    async def _run(
        self,
        command: QueryCommand,
        received_at: dt.datetime,
        time_remaining_s: float | None,
        caller_deadline: float | None,
    ) -> AsyncGenerator[ProviderPart | CompiledAnswer, None]:
        if self._active >= self._settings.max_in_flight:
            raise OverloadedError("TOO_MANY_QUERIES_IN_FLIGHT")
        try:
            query = validate(command, today=local_date(received_at))
        except InvalidRequestError as error:
            await self._record_rejection(
                command.organisation_number,
                RejectionReason.INVALID_ARGUMENT,
                [violation.field for violation in error.violations],
                command.entry_point,
                caller=command.authenticated_organisation,
            )
            raise
        caller = command.authenticated_organisation
        if caller not in (None, query.organisation.digits):
            reason = RejectionReason.ORGANISATION_MISMATCH
            await self._record_rejection(
                query.organisation.digits, reason, [], command.entry_point, caller=caller
            )
            raise PermissionDeniedError(reason.value)
        self._admit(query.organisation.digits)
        if self._gate.is_open:  # the store is known to be down: refuse before any work
            raise AuditUnavailableError
        self._active += 1
        try:
            pseudonym = self._pseudonymiser.pseudonym(
                "caseworker", f"{query.organisation.digits}|{query.caseworker_id}"
            )
            access = await self._decide_access(
                query.organisation.digits,
                pseudonym,
                received_at,
                command.entry_point,
                self._left_s(caller_deadline, received_at, len(query.subjects)),
                caller,
            )
            query_id = self._query_id(query.organisation, command.client_request_id)
            audit = await self._receive(
                query_id,
                query,
                pseudonym,
                received_at,
                time_remaining_s,
                command.entry_point,
                self._left_s(caller_deadline, received_at, len(query.subjects)),
                caller=caller,
            )
            try:
                async with aclosing(
                    self._aggregate(audit, query_id, query, access, caller_deadline)
                ) as items:
                    async for item in items:
                        yield item
            finally:
                if audit.status is QueryStatus.RECEIVED:  # the caller went away mid-query
                    await self._record_cancellation(audit, self._gone(caller_deadline))
        finally:
            self._active -= 1

    def _admit(self, organisation: str) -> None:
        """Refuse at once, before any work, when the organisation is over its rate.

        Overload refusals are counted in the metrics, not written to the audit trail: under
        overload the store is the thing to protect.
        """
        limiter = self._rate_limiter
        if limiter is not None and not limiter.admit(organisation):
            raise OverloadedError(
                "ORGANISATION_RATE_LIMIT", retry_after_s=limiter.retry_after_s(organisation)
            )

    def _left_s(
        self, caller_deadline: float | None, received_at: dt.datetime, subject_count: int
    ) -> float:
        """Seconds left of the call: to the caller's deadline or the end of the service
        level, whichever comes first, less the margin kept for releasing the answer."""
        end = received_at + answer_target(subject_count)
        left = (end - self._clock.now()).total_seconds()
        if caller_deadline is not None:
            left = min(left, caller_deadline - self._clock.monotonic())
        return left - self._settings.release_margin_s

    async def _decide_access(
        self,
        organisation: str,
        pseudonym: str,
        at: dt.datetime,
        entry_point: EntryPoint,
        left_s: float,
        caller: str | None = None,
    ) -> AccessDecision:
        """Refuse (and record) a query from outside the agreement; say what it may receive.

        Asking may read the store: within the call's time, and a store that fails then is
        an outage like any other (UNAVAILABLE, the gate opens)."""
        if self._access_policy is None:
            return AccessDecision(refusal=None, vehicle_register_consent=True)
        decision = self._access_policy.decided(organisation, pseudonym, at)
        if decision is None:  # not remembered: ask, off the event loop (it may read the store)
            asking = asyncio.ensure_future(
                asyncio.to_thread(self._access_policy.decide, organisation, pseudonym, at)
            )
            try:
                async with asyncio.timeout(max(left_s, 0.01)):
                    while not asking.done():  # the store known down meanwhile: stop waiting
                        await asyncio.wait({asking}, timeout=0.1)
                        self._gate.refuse_if_open()
                decision = asking.result()
            except StoreUnavailableError:
                asking.add_done_callback(_retrieved)
                raise AuditUnavailableError from None
            except (TimeoutError, PersistenceError) as error:
                asking.add_done_callback(_retrieved)
                self._gate.trip(f"access decision: {type(error).__name__}")
                raise AuditUnavailableError from None
        if decision.refusal is not None:
            reason = RejectionReason(decision.refusal)
            await self._record_rejection(organisation, reason, [], entry_point, caller=caller)
            raise PermissionDeniedError(reason.value)
        return decision

    async def _receive(
        self,
        query_id: UUID,
        query: ValidQuery,
        pseudonym: str,
        received_at: dt.datetime,
        time_remaining_s: float | None,
        entry_point: EntryPoint,
        left_s: float,
        *,
        caller: str | None = None,
    ) -> Query:
        """Save ``Received`` before any provider is asked: the query's first, gated write.

        A query id already in the store is a retry (ADR 6): refused with ALREADY_EXISTS when
        its answer was delivered, QUERY_IN_PROGRESS while an earlier call may still answer
        it, and otherwise received again as a new attempt (``Query.Retried``).
        """
        budget_s = self._settings.budget_s(len(query.subjects), time_remaining_s)
        deadline = received_at + dt.timedelta(seconds=budget_s)
        audit = Query.receive(
            query_id=query_id,
            asking_organisation=query.organisation.digits,
            at=received_at,
            **_asked(query, pseudonym, deadline, entry_point),
        )
        try:
            await self._first_write(audit, left_s)
        except IntegrityError:
            pass
        else:
            return audit
        for _ in range(RETRY_ROUNDS):
            retried = await self._take_over(
                query_id, query, pseudonym, deadline, entry_point, caller=caller
            )
            try:
                await self._first_write(retried, left_s)
            except IntegrityError:
                continue  # another call moved the query on first: look again
            return retried
        raise QueryInProgressError(query_id, 1.0)

    async def _first_write(self, audit: Query, left_s: float) -> None:
        """The first, gated write of an attempt, within the gate's limit and what is left of
        the call; refused as unavailable if it fails. If it lands late after all, the query
        is closed as not answered once the store is back."""
        within_s = min(self._settings.store_read_timeout_s, max(left_s, 0.01))
        try:
            await self._gate.guarded_async(
                lambda: self._group.save(audit, within_s=within_s),
                passthrough=(IntegrityError,),
                timeout_s=within_s,
            )
        except StoreUnavailableError:
            self._close_later(audit.id, audit.attempt, "AUDIT_UNAVAILABLE")
            raise AuditUnavailableError from None

    async def _take_over(
        self,
        query_id: UUID,
        query: ValidQuery,
        pseudonym: str,
        deadline: dt.datetime,
        entry_point: EntryPoint,
        *,
        caller: str | None = None,
    ) -> Query:
        """The stored query under a retried id, received again as a new attempt (not saved
        yet); or the refusal: ALREADY_EXISTS once answered, QUERY_IN_PROGRESS while its
        call may still answer it."""
        try:
            existing: Query = await self._gate.guarded(lambda: self.repository.get(query_id))
        except StoreUnavailableError:
            raise AuditUnavailableError from None
        now = self._clock.now()
        if existing.answered:
            await self._record_rejection(
                query.organisation.digits,
                RejectionReason.DUPLICATE_REQUEST,
                ["client_request_id"],
                entry_point,
                caller=caller,
            )
            raise DuplicateQueryError(
                query_id, existing.created_on, existing.status.value, existing.delivered_at
            )
        if not existing.closed_unanswered:
            ended = existing.received_at + answer_target(existing.subject_count) + RETRY_GRACE
            if now < ended:
                raise QueryInProgressError(query_id, (ended - now).total_seconds())
            existing.abandon(reason="NOT_ANSWERED", at=now, before_deadline=True)
        existing.retry(at=now, **_asked(query, pseudonym, deadline, entry_point))
        log.info(
            "query received again under its client request id",
            extra={"query_id": str(query_id), "attempt": existing.attempt},
        )
        return existing

    def _close_later(self, query_id: UUID, attempt: int, reason: str) -> None:
        """Close the attempt as not answered once the store answers again (in the background:
        the caller has its refusal already). Recovery closes it if this process ends first."""
        task = asyncio.get_running_loop().create_task(
            self._close_when_back(query_id, attempt, reason)
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close_when_back(self, query_id: UUID, attempt: int, reason: str) -> None:
        give_up = self._clock.monotonic() + 4 * self._settings.abandon_grace_s
        while self._clock.monotonic() < give_up:
            if not self._gate.is_open:
                try:
                    await asyncio.to_thread(self._close_if_open, query_id, attempt, reason)
                    return
                except Exception as error:
                    log.info("closing an unanswered query waits: %s", type(error).__name__)
            await asyncio.sleep(self._settings.store_probe_interval_s)
        log.warning("an unanswered query stays open; recovery will close it")

    def _close_if_open(self, query_id: UUID, attempt: int, reason: str) -> None:
        try:
            query: Query = self.repository.get(query_id)
        except AggregateNotFoundError:
            return  # the write never landed: nothing to close
        if query.attempt != attempt:
            return  # a retry has taken it over
        if query.answered:
            log.error(
                "the trail records an answer the caller was told was not given",
                extra={"query_id": str(query_id)},
            )
            return
        if query.status not in (QueryStatus.RECEIVED, QueryStatus.COMPILED):
            return
        query.abandon(reason=reason, at=self._clock.now(), before_deadline=True)
        try:
            self.save(query)
        except IntegrityError:
            return  # a retry moved it on meanwhile
        log.info("unanswered query closed: %s", reason, extra={"query_id": str(query_id)})

    async def _aggregate(
        self,
        audit: Query,
        query_id: UUID,
        query: ValidQuery,
        access: AccessDecision,
        caller_deadline: float | None,
    ) -> AsyncGenerator[ProviderPart | CompiledAnswer, None]:
        assert audit.deadline is not None
        budget_s = (audit.deadline - audit.received_at).total_seconds()
        parts: list[ProviderPart] = []
        not_asked = _not_asked(access)
        async with aclosing(
            self._fan_out.run(
                query.subjects,
                tuple(s for s in query.selections if s.provider not in not_asked),
                received_at=audit.received_at,
                budget_s=budget_s,
                not_entitled=frozenset()
                if access.vehicle_register_consent
                else frozenset({Provider.TRANSPORTSTYRELSEN}),
            )
        ) as calls:
            async for part in _chain(_uncalled(query, not_asked), calls):
                parts.append(part)
                self._checkpoints.reached("fan-out")
                self._metrics.call_finished(
                    part.provider.value,
                    part.kind.value,
                    part.error.source.value if part.error else None,
                    part.latency_ms / 1000,
                )
                yield part
        answer = compile_answer(audit, query_id, query, parts, audit.received_at, self._clock)
        margin = self._settings.release_margin_s
        if caller_deadline is not None and self._clock.monotonic() >= caller_deadline - margin:
            # Too late to release: the trail says it was not delivered, never Delivered.
            await self._record_cancellation(audit, CancelReason.DEADLINE_EXCEEDED)
            raise DeadlineExceededError
        left_s = self._left_s(caller_deadline, audit.received_at, audit.subject_count)
        released_at = self._clock.now()
        audit.deliver(at=released_at)
        audit.erase_case_data(at=released_at)
        self._checkpoints.reached("before-save")
        try:
            # Committed with time left to hand the answer over, or not at all (ADR 23).
            await self._save(audit, within_s=left_s)
        except AuditUnavailableError:
            self._close_later(audit.id, audit.attempt, "AUDIT_UNAVAILABLE")
            if caller_deadline is not None and self._clock.monotonic() >= caller_deadline:
                raise DeadlineExceededError from None
            raise
        self._checkpoints.reached("after-save")
        log.info(
            "query answered",
            extra={
                "query_id": str(query_id),
                "subjects": len(query.subjects),
                "providers": len(query.selections),
                "elapsed_ms": round((released_at - audit.received_at).total_seconds() * 1000),
            },
        )
        yield answer

    async def record_invalid(
        self,
        organisation_number: str,
        fields: Sequence[str],
        entry_point: EntryPoint,
        *,
        caller: str | None,
    ) -> None:
        """Record a request an adapter refused as invalid before it could become a command
        (a SOAP query the schema refuses, ADR 19) as the saga records its own invalid
        requests: ``Rejected`` with ``INVALID_ARGUMENT`` and the names of the fields only."""
        await self._record_rejection(
            organisation_number,
            RejectionReason.INVALID_ARGUMENT,
            list(fields),
            entry_point,
            caller=caller,
        )

    async def _record_rejection(
        self,
        organisation_number: str,
        reason: RejectionReason,
        fields: list[str],
        entry_point: EntryPoint,
        *,
        caller: str | None,
    ) -> None:
        """Record a refusal against whoever made the call (ADR 24): the caller its client
        certificate proved, with the organisation the request claimed when that is another;
        without a certificate (development), the organisation the request named. A certificate
        that proved no organisation (``""``: refused earlier by the transport) is counted
        against no one."""
        try:
            claimed = OrganisationNumber.parse(organisation_number).digits
        except ValueError:
            claimed = ""  # not an organisation number: never stored (it may be anything)
        rejected = Query.reject(
            query_id=uuid.uuid4(),
            asking_organisation=claimed if caller is None else caller,
            reason=reason,
            fields=fields,
            at=self._clock.now(),
            entry_point=entry_point,
            caller=caller or "",
            claimed_organisation=claimed if caller is not None and claimed != caller else "",
        )
        await self._save(rejected)

    async def _record_cancellation(self, audit: Query, reason: CancelReason) -> None:
        """Best effort, within the gate's time limit: if the store is down, the query is
        closed once it is back (``Abandoned`` with the reason), or by recovery."""
        audit.cancel(reason=reason, at=self._clock.now())
        try:
            await self._gate.guarded(lambda: self.save(audit))
        except StoreUnavailableError:
            log.warning("could not record a cancelled query; it is closed when the store is back")
            self._close_later(audit.id, audit.attempt, reason.value)
        log.info(
            "query not delivered: %s",
            reason.value,
            extra={"query_id": str(audit.id), "code": reason.value},
        )

    def close_abandoned(self, *, pace: Pace = no_pacing) -> int:
        """The recovery step: close queries whose process ended before answering."""
        return self.recovery.close_abandoned(pace=pace)

    def _probe_store(self) -> None:
        self.recorder.max_notification_id()

    async def _save(self, audit: Query, *, within_s: float | None = None) -> None:
        """Save, committed within ``within_s`` or not at all; any failure is unavailability
        (the gate opens unless the time was simply too short for the caller's deadline)."""
        if within_s is not None and within_s <= 0:
            raise AuditUnavailableError
        # The store itself gives up first (it refuses to commit late); this limit, half the
        # release margin later and still before the caller's deadline, is for a store that
        # stopped answering altogether.
        limit_s = None if within_s is None else within_s + self._settings.release_margin_s / 2
        try:
            async with asyncio.timeout(limit_s):
                await self._group.save(audit, within_s=within_s)
        except StoreDeadlinePassedError:
            raise AuditUnavailableError from None
        except Exception as error:
            self._gate.trip(f"save failed: {type(error).__name__}")
            raise AuditUnavailableError from None
        self._gate.succeeded()

    def _query_id(self, organisation: OrganisationNumber, client_request_id: str) -> UUID:
        """A retry with the same client request id maps to the same query (keyed, not guessable)."""
        if not client_request_id:
            return uuid.uuid4()
        digest = self._pseudonymiser.pseudonym(
            "client-request", f"{organisation.digits}|{client_request_id}"
        )
        return UUID(hex=digest[:32], version=4)

    async def check_providers(self, providers: Sequence[Provider] = ()) -> list[ProviderStatus]:
        """Reach each base service without personal data.

        The check does not pass the provider's bulkhead or breaker: it reports the provider
        as it is even when its query calls are full or refused (adapters give it a path of
        its own, e.g. the ``http`` adapter a connection pool that queries never use)."""
        chosen = list(providers) or list(Provider)
        now = self._clock.now()
        results = await asyncio.gather(*(self._check(p) for p in chosen))
        return [self._status(health, now) for health in results]

    def _status(self, health: BaseServiceHealth, now: dt.datetime) -> ProviderStatus:
        """The provider as its check found it, with its breaker as the query path sees it."""
        guard = self._fan_out.guards[health.provider]
        return ProviderStatus(
            health,
            PROFILES[health.provider].opening_hours.is_open_at(now),
            breaker=guard.breaker.state,
            unavailable_since=guard.breaker.since,
            calls_in_progress=guard.in_progress,
            call_limit=guard.limit,
        )

    async def _check(self, provider: Provider) -> BaseServiceHealth:
        base_service = self._base_services.get(provider)
        if base_service is None:
            return BaseServiceHealth(provider, False, 0, "no base service is configured")
        started = self._clock.monotonic()
        try:
            async with asyncio.timeout(self._settings.check_timeout_s):
                return await base_service.check()
        except TimeoutError:
            detail = "the base service did not answer in time"
        except Exception as error:
            detail = f"the check failed: {type(error).__name__}"
        latency_ms = round((self._clock.monotonic() - started) * 1000)
        return BaseServiceHealth(provider, False, latency_ms, detail)

    def describe_providers(self) -> list[ProviderDescription]:
        now = self._clock.now()
        return [
            ProviderDescription(profile, profile.opening_hours.is_open_at(now))
            for profile in CATALOGUE
        ]


async def _uncalled(
    query: ValidQuery, not_asked: Mapping[Provider, OutcomeKind]
) -> AsyncGenerator[ProviderPart, None]:
    """The parts of the providers not asked: said at once, one per subject."""
    for selection in query.selections:
        kind = not_asked.get(selection.provider)
        if kind is None:
            continue
        for index, subject in enumerate(query.subjects):
            yield ProviderPart(selection.provider, index, subject, kind, latency_ms=0)


async def _chain(
    *sources: AsyncGenerator[ProviderPart, None],
) -> AsyncGenerator[ProviderPart, None]:
    for source in sources:
        async for part in source:
            yield part


def _not_asked(access: AccessDecision) -> dict[Provider, OutcomeKind]:
    """Providers the agreement says are not to be asked for this municipality now."""
    not_asked = dict.fromkeys(access.providers_stopped, OutcomeKind.PROVIDER_STOPPED)
    not_asked.update(
        dict.fromkeys(access.providers_not_connected, OutcomeKind.PROVIDER_NOT_CONNECTED)
    )
    return not_asked


def _retrieved(future: asyncio.Future[Any]) -> None:
    """A store read given up on: its outcome is read when it ends, not left to warn."""
    if not future.cancelled():
        future.exception()


def _refusal_code(refusal: Exception) -> str:
    if isinstance(refusal, PermissionDeniedError | OverloadedError):
        return refusal.reason
    return RejectionReason.INVALID_ARGUMENT.value


class _Asked(TypedDict):
    caseworker_pseudonym: str
    subject_count: int
    selections: list[ProviderSelection]
    purpose: Purpose
    legal_basis: LegalBasis
    period: Period
    deadline: dt.datetime
    entry_point: EntryPoint


def _asked(
    query: ValidQuery, pseudonym: str, deadline: dt.datetime, entry_point: EntryPoint
) -> _Asked:
    """What the trail keeps of what a query asks (no personal data), first time or again."""
    return _Asked(
        caseworker_pseudonym=pseudonym,
        subject_count=len(query.subjects),
        selections=list(query.selections),
        purpose=query.purpose,
        legal_basis=query.legal_basis,
        period=query.period,
        deadline=deadline,
        entry_point=entry_point,
    )
