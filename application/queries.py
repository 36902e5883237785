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
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding
from eventsourcing.utils import Environment

from application.commands import QueryCommand
from application.errors import (
    AuditUnavailableError,
    DuplicateQueryError,
    InvalidQueryError,
    OverloadedError,
    PermissionDeniedError,
)
from application.fan_out import FanOut
from application.ports import (
    AccessDecision,
    AccessPolicy,
    BaseService,
    BaseServiceHealth,
    Clock,
    Metrics,
    NoMetrics,
    Pseudonymiser,
    RateLimiter,
)
from application.store_gate import StoreGate, StoreUnavailableError
from application.validation import ValidQuery, validate
from domain.identity import OrganisationNumber
from domain.providers import CATALOGUE, PROFILES, Provider, ProviderProfile
from domain.query.aggregate import Query, RejectionReason
from domain.query.answer import CompiledAnswer, ProviderPart, notices_for
from domain.query.values import CallOutcome, ErrorSource, provider_error_code
from domain.service_level import answer_target

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
    store_read_timeout_s: float = 1.0
    """The first read of each query; slower than this, the store gate opens (UNAVAILABLE)."""
    store_probe_interval_s: float = 0.5

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


class Queries(Application[UUID]):
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
    ) -> None:
        """``access_policy`` None lets every organisation and caseworker ask, with vehicle
        consent: for unit tests and benchmarks only; the composition root always wires
        the Parties application."""
        self._access_policy = access_policy
        self._metrics: Metrics = metrics or NoMetrics()
        self._rate_limiter = rate_limiter
        self._active = 0
        self._gate = StoreGate(
            self._probe_store,
            read_timeout_s=settings.store_read_timeout_s,
            probe_interval_s=settings.store_probe_interval_s,
        )
        self._transcodings = tuple(transcodings)
        self._base_services = dict(base_services)
        self._clock = clock
        self._pseudonymiser = pseudonymiser
        self._settings = settings
        self._fan_out = FanOut(self._base_services, clock)
        self._in_flight: set[UUID] = set()
        super().__init__(env=dict(env))

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """Configuration comes only from the composition root, never from ``os.environ``."""
        return Environment(name, dict(env or {}))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in self._transcodings:
            transcoder.register(transcoding)

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
        """Yield each provider's part as it arrives, then the compiled answer."""
        received_at = self._clock.now()
        started = self._clock.monotonic()
        outcome = "ANSWERED"
        try:
            async with aclosing(self._run(command, received_at, time_remaining_s)) as items:
                async for item in items:
                    yield item
        except (InvalidQueryError, PermissionDeniedError, OverloadedError) as refusal:
            outcome = _refusal_code(refusal)
            raise
        except DuplicateQueryError:
            outcome = RejectionReason.DUPLICATE_REQUEST.value
            raise
        except AuditUnavailableError:
            outcome = "AUDIT_UNAVAILABLE"
            raise
        finally:
            self._metrics.query_finished(outcome, self._clock.monotonic() - started)

    async def _run(
        self, command: QueryCommand, received_at: dt.datetime, time_remaining_s: float | None
    ) -> AsyncGenerator[ProviderPart | CompiledAnswer, None]:
        if self._active >= self._settings.max_in_flight:
            raise OverloadedError("TOO_MANY_QUERIES_IN_FLIGHT")
        try:
            query = validate(command)
        except InvalidQueryError as error:
            await self._record_rejection(
                command.organisation_number,
                RejectionReason.INVALID_ARGUMENT,
                [violation.field for violation in error.violations],
            )
            raise
        if command.authenticated_organisation not in (None, query.organisation.digits):
            reason = RejectionReason.ORGANISATION_MISMATCH
            await self._record_rejection(query.organisation.digits, reason, [])
            raise PermissionDeniedError(reason.value)
        self._admit(query.organisation.digits)
        self._active += 1
        try:
            pseudonym = self._pseudonymiser.pseudonym(
                "caseworker", f"{query.organisation.digits}|{query.caseworker_id}"
            )
            access = await self._decide_access(query.organisation.digits, pseudonym, received_at)
            query_id = self._query_id(query.organisation, command.client_request_id)
            if query_id in self._in_flight:
                await self._reject_duplicate(query)
            self._in_flight.add(query_id)
            try:
                if await self._stored(query_id):
                    await self._reject_duplicate(query)
                async with aclosing(
                    self._aggregate(
                        query_id, query, pseudonym, access, received_at, time_remaining_s
                    )
                ) as items:
                    async for item in items:
                        yield item
            finally:
                self._in_flight.discard(query_id)
        finally:
            self._active -= 1

    def _admit(self, organisation: str) -> None:
        """Refuse at once, before any work, when the organisation is over its rate.

        Overload refusals are counted in the metrics, not written to the audit trail: under
        overload the store is the thing to protect.
        """
        if self._rate_limiter is not None and not self._rate_limiter.admit(organisation):
            raise OverloadedError("ORGANISATION_RATE_LIMIT")

    async def _reject_duplicate(self, query: ValidQuery) -> None:
        await self._record_rejection(
            query.organisation.digits, RejectionReason.DUPLICATE_REQUEST, ["client_request_id"]
        )
        raise DuplicateQueryError

    async def _decide_access(
        self, organisation: str, pseudonym: str, at: dt.datetime
    ) -> AccessDecision:
        """Refuse (and record) a query from outside the agreement; say what it may receive."""
        if self._access_policy is None:
            return AccessDecision(refusal=None, vehicle_register_consent=True)
        decision = await asyncio.to_thread(self._access_policy.decide, organisation, pseudonym, at)
        if decision.refusal is not None:
            reason = RejectionReason(decision.refusal)
            await self._record_rejection(organisation, reason, [])
            raise PermissionDeniedError(reason.value)
        return decision

    async def _aggregate(
        self,
        query_id: UUID,
        query: ValidQuery,
        pseudonym: str,
        access: AccessDecision,
        received_at: dt.datetime,
        time_remaining_s: float | None,
    ) -> AsyncGenerator[ProviderPart | CompiledAnswer, None]:
        budget_s = self._settings.budget_s(len(query.subjects), time_remaining_s)
        audit = Query.receive(
            query_id=query_id,
            asking_organisation=query.organisation.digits,
            caseworker_pseudonym=pseudonym,
            subject_count=len(query.subjects),
            selections=list(query.selections),
            purpose=query.purpose,
            legal_basis=query.legal_basis,
            period=query.period,
            deadline=received_at + dt.timedelta(seconds=budget_s),
            at=received_at,
        )
        parts: list[ProviderPart] = []
        async with aclosing(
            self._fan_out.run(
                query.subjects,
                query.selections,
                received_at=received_at,
                budget_s=budget_s,
                not_entitled=frozenset()
                if access.vehicle_register_consent
                else frozenset({Provider.TRANSPORTSTYRELSEN}),
            )
        ) as calls:
            async for part in calls:
                parts.append(part)
                self._metrics.call_finished(
                    part.provider.value,
                    part.kind.value,
                    part.error.source.value if part.error else None,
                    part.latency_ms / 1000,
                )
                yield part
        ordered = tuple(sorted(parts, key=_part_order))
        for selection in query.selections:
            audit.record_provider_answered(
                selection.provider,
                [_outcome(p) for p in ordered if p.provider is selection.provider],
                at=self._clock.now(),
            )
        notices = notices_for(query.subjects, ordered)
        compiled_at = self._clock.now()
        audit.compile(protected_identity_notices=len(notices), at=compiled_at)
        answer = CompiledAnswer(
            query_id=query_id,
            subjects=query.subjects,
            parts=ordered,
            notices=notices,
            received_at=received_at,
            compiled_at=compiled_at,
        )
        released_at = self._clock.now()
        audit.deliver(at=released_at)
        audit.erase_case_data(at=released_at)
        await self._save(audit)
        log.info(
            "query answered",
            extra={
                "query_id": str(query_id),
                "subjects": len(query.subjects),
                "providers": len(query.selections),
                "elapsed_ms": round((released_at - received_at).total_seconds() * 1000),
            },
        )
        yield answer

    async def _record_rejection(
        self, organisation_number: str, reason: RejectionReason, fields: list[str]
    ) -> None:
        try:
            organisation = OrganisationNumber.parse(organisation_number).digits
        except ValueError:
            organisation = ""
        rejected = Query.reject(
            query_id=uuid.uuid4(),
            asking_organisation=organisation,
            reason=reason,
            fields=fields,
            at=self._clock.now(),
        )
        await self._save(rejected)

    async def _stored(self, query_id: UUID) -> bool:
        """Whether the query is already in the audit trail; a store that cannot say fails fast."""
        try:
            return await self._gate.read(lambda: query_id in self.repository)
        except StoreUnavailableError:
            raise AuditUnavailableError from None

    def _probe_store(self) -> None:
        self.recorder.max_notification_id()

    async def _save(self, audit: Query) -> None:
        try:
            await asyncio.to_thread(self.save, audit)
        except Exception as error:
            self._gate.trip(f"save failed: {type(error).__name__}")
            raise AuditUnavailableError from None

    def _query_id(self, organisation: OrganisationNumber, client_request_id: str) -> UUID:
        """A retry with the same client request id maps to the same query (keyed, not guessable)."""
        if not client_request_id:
            return uuid.uuid4()
        digest = self._pseudonymiser.pseudonym(
            "client-request", f"{organisation.digits}|{client_request_id}"
        )
        return UUID(hex=digest[:32], version=4)

    async def check_providers(self, providers: Sequence[Provider] = ()) -> list[ProviderStatus]:
        """Reach each base service without personal data."""
        chosen = list(providers) or list(Provider)
        now = self._clock.now()
        results = await asyncio.gather(*(self._check(p) for p in chosen))
        return [
            ProviderStatus(health, PROFILES[health.provider].opening_hours.is_open_at(now))
            for health in results
        ]

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


def _refusal_code(refusal: Exception) -> str:
    if isinstance(refusal, PermissionDeniedError | OverloadedError):
        return refusal.reason
    return RejectionReason.INVALID_ARGUMENT.value


def _part_order(part: ProviderPart) -> tuple[int, int]:
    return part.subject_index, list(Provider).index(part.provider)


def _outcome(part: ProviderPart) -> CallOutcome:
    error = part.error
    if error is None:
        return CallOutcome(part.subject_index, part.kind, part.latency_ms)
    code = error.code if error.source is ErrorSource.SSBT else provider_error_code(error.code)
    return CallOutcome(part.subject_index, part.kind, part.latency_ms, error.source, code)
