"""Compiling one answer from the parts that came back, and recording it in the audit trail.

The parts are passed on as they are (004 § 12.5.8: no silent change of data); only their
order is fixed: by subject, then by provider in catalogue order.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from application.ports import Clock
from application.validation import ValidQuery
from domain.providers import Provider
from domain.query.aggregate import Query
from domain.query.answer import CompiledAnswer, ProviderPart, notices_for
from domain.query.values import CallOutcome, ErrorSource, provider_error_code

_PROVIDER_ORDER = {provider: index for index, provider in enumerate(Provider)}


def _part_order(part: ProviderPart) -> tuple[int, int]:
    return part.subject_index, _PROVIDER_ORDER[part.provider]


def call_outcome(part: ProviderPart) -> CallOutcome:
    """The non-personal record of a part: position, outcome, latency, error source and code."""
    error = part.error
    if error is None:
        return CallOutcome(part.subject_index, part.kind, part.latency_ms)
    code = error.code if error.source is ErrorSource.SSBT else provider_error_code(error.code)
    return CallOutcome(part.subject_index, part.kind, part.latency_ms, error.source, code)


def compile_answer(
    audit: Query,
    query_id: UUID,
    query: ValidQuery,
    parts: list[ProviderPart],
    received_at: dt.datetime,
    clock: Clock,
) -> CompiledAnswer:
    """Record the providers' outcomes and the counts on ``audit`` (one event); build the answer."""
    ordered = tuple(sorted(parts, key=_part_order))
    outcomes: dict[Provider, list[CallOutcome]] = {s.provider: [] for s in query.selections}
    for part in ordered:
        outcomes[part.provider].append(call_outcome(part))
    notices = notices_for(query.subjects, ordered)
    compiled_at = clock.now()
    audit.compile(outcomes=outcomes, protected_identity_notices=len(notices), at=compiled_at)
    return CompiledAnswer(
        query_id=query_id,
        subjects=query.subjects,
        parts=ordered,
        notices=notices,
        received_at=received_at,
        compiled_at=compiled_at,
    )
