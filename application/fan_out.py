"""Ask every included provider about every subject, in parallel, within one deadline.

Each call ends in exactly one ``ProviderPart``: the provider's data, "no data", a
structured error (source SSBT when the service could not get an answer, BT when the
base service reported a failure), or "closed" outside the provider's opening hours.
A failing provider never stops the others, and never holds more than its own share:
every call passes its provider's bulkhead and circuit breaker (``provider_guard``, ADR 20).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncGenerator, Mapping

from application.ports import (
    BaseService,
    BaseServiceBusyError,
    BaseServiceReportedError,
    BaseServiceUnreachableError,
    Clock,
    MalformedAnswerError,
)
from application.provider_guard import BUSY, GuardSettings, ProviderGuard, guards_for
from domain.identity import PersonalIdentityNumber
from domain.providers import PROFILES, Provider
from domain.query.answer import PartError, ProviderPart, ProviderRecord
from domain.query.values import (
    ErrorSource,
    OutcomeKind,
    ProviderSelection,
    ServiceErrorCode,
)

log = logging.getLogger(__name__)

_SSBT_MESSAGES = {
    ServiceErrorCode.TIMEOUT: "the base service did not answer within the deadline",
    ServiceErrorCode.UNREACHABLE: "the base service could not be reached",
    ServiceErrorCode.MALFORMED_ANSWER: "the base service's answer could not be read",
    ServiceErrorCode.ANSWER_MISMATCH: "the base service answered about another subject",
    ServiceErrorCode.INTERNAL: "the composite service failed to handle the base service's answer",
}


def _service_error(code: ServiceErrorCode) -> PartError:
    return PartError(ErrorSource.SSBT, code.value, _SSBT_MESSAGES[code])


class FanOut:
    """One query's parallel calls. Personal data lives here only while the calls run."""

    def __init__(
        self,
        base_services: Mapping[Provider, BaseService],
        clock: Clock,
        guard_settings: GuardSettings | None = None,
    ) -> None:
        self._base_services = base_services
        self._clock = clock
        self.guards: Mapping[Provider, ProviderGuard] = guards_for(
            Provider, guard_settings or GuardSettings(), monotonic=clock.monotonic, now=clock.now
        )

    async def run(
        self,
        subjects: tuple[PersonalIdentityNumber, ...],
        selections: tuple[ProviderSelection, ...],
        *,
        received_at: dt.datetime,
        budget_s: float,
        not_entitled: frozenset[Provider] = frozenset(),
    ) -> AsyncGenerator[ProviderPart, None]:
        """Yield each part as it completes; every part arrives within ``budget_s``.

        Providers in ``not_entitled`` and providers outside their opening hours are not
        called: their parts say so at once.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget_s
        tasks: list[asyncio.Task[ProviderPart]] = []
        try:
            for selection in selections:
                profile = PROFILES[selection.provider]
                if selection.provider in not_entitled:
                    uncalled: OutcomeKind | None = OutcomeKind.NOT_ENTITLED
                elif not profile.opening_hours.is_open_at(received_at):
                    uncalled = OutcomeKind.CLOSED
                else:
                    uncalled = None
                for index, subject in enumerate(subjects):
                    if uncalled is not None:
                        yield ProviderPart(
                            selection.provider, index, subject, uncalled, latency_ms=0
                        )
                        continue
                    tasks.append(
                        asyncio.create_task(self._call(selection, index, subject, deadline))
                    )
            for finished in asyncio.as_completed(tasks):
                yield await finished
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _call(
        self,
        selection: ProviderSelection,
        index: int,
        subject: PersonalIdentityNumber,
        deadline: float,
    ) -> ProviderPart:
        provider = selection.provider
        started = self._clock.monotonic()

        def part(
            kind: OutcomeKind,
            *,
            error: PartError | None = None,
            record: ProviderRecord | None = None,
        ) -> ProviderPart:
            latency_ms = round((self._clock.monotonic() - started) * 1000)
            return ProviderPart(
                provider, index, subject, kind, latency_ms, record=record, error=error
            )

        base_service = self._base_services.get(provider)
        if base_service is None:
            return part(OutcomeKind.ERROR, error=_service_error(ServiceErrorCode.UNREACHABLE))
        guard = self.guards[provider]
        ticket = guard.enter()
        if isinstance(ticket, PartError):
            return part(OutcomeKind.ERROR, error=ticket)
        try:
            async with asyncio.timeout_at(deadline):
                answer = await base_service.fetch(subject, selection.period)
        except TimeoutError:
            given_s = self._clock.monotonic() - started
            if given_s >= guard.min_timeout_s:
                ticket.failed()
            return part(OutcomeKind.ERROR, error=_service_error(ServiceErrorCode.TIMEOUT))
        except BaseServiceUnreachableError:
            ticket.failed()
            return part(OutcomeKind.ERROR, error=_service_error(ServiceErrorCode.UNREACHABLE))
        except BaseServiceBusyError:  # the adapter's own connection pool is full
            return part(OutcomeKind.ERROR, error=BUSY)
        except BaseServiceReportedError as failure:
            ticket.reached()
            return part(
                OutcomeKind.ERROR, error=PartError(ErrorSource.BT, failure.code, failure.message)
            )
        except MalformedAnswerError:
            ticket.reached()
            return part(OutcomeKind.ERROR, error=_service_error(ServiceErrorCode.MALFORMED_ANSWER))
        except Exception as unexpected:  # a broken adapter must not break the query
            # Only the type is logged: an exception's message may hold personal data.
            log.error(
                "base service adapter for %s raised %s",
                provider.value,
                type(unexpected).__name__,
            )
            return part(OutcomeKind.ERROR, error=_service_error(ServiceErrorCode.INTERNAL))
        else:
            ticket.reached()
        finally:
            ticket.close()
        if answer.provider is not provider or answer.subject != subject:
            return part(OutcomeKind.ERROR, error=_service_error(ServiceErrorCode.ANSWER_MISMATCH))
        kind = OutcomeKind.NO_DATA if answer.record.is_empty else OutcomeKind.ANSWERED
        return part(kind, record=answer.record)
