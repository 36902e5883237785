"""The compiled answer: PERSONAL DATA. It lives in memory for the life of one query.

Every type in this module carries personal data (the subjects' identity numbers and
what the providers said about them). None of them may reach an event, a snapshot, a
table, a log line, a metric label or an error message. Their ``repr`` is masked so a
stray log call or traceback cannot print them.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from uuid import UUID

import attrs

from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.values import ErrorSource, OutcomeKind


class ProviderRecord(Protocol):
    """What one provider said about one subject (see ``domain.provider_data``)."""

    @property
    def protected_identity(self) -> bool:
        """The provider flags the subject as having a protected identity."""
        ...

    @property
    def is_empty(self) -> bool:
        """The provider has no data about the subject for the period."""
        ...


def _redacted(self: object) -> str:
    return f"{type(self).__name__}(<personal data redacted>)"


@attrs.frozen(repr=False, weakref_slot=True)
class ProviderAnswer:
    """A base service's answer about one subject, exactly as the provider delivered it."""

    provider: Provider
    subject: PersonalIdentityNumber
    record: ProviderRecord

    __repr__ = _redacted


@attrs.frozen(repr=False)
class PartError:
    """Why a provider's part holds no data (v10 ``kalla``, ``felkod``, ``felmeddelande``).

    ``message`` may come from the base service and is returned to the caller only.
    """

    source: ErrorSource
    code: str
    message: str

    __repr__ = _redacted


@attrs.frozen(repr=False, weakref_slot=True)
class ProviderPart:
    """One provider's part of the answer about one subject: data, or a structured error."""

    provider: Provider
    subject_index: int
    subject: PersonalIdentityNumber
    kind: OutcomeKind
    latency_ms: int
    record: ProviderRecord | None = None
    error: PartError | None = None

    __repr__ = _redacted

    @property
    def flags_protected_identity(self) -> bool:
        return self.record is not None and self.record.protected_identity


@attrs.frozen(repr=False)
class ProtectedIdentityNotice:
    """The subject has a protected identity (särskild sekretessmarkering, 003 § 1.3)."""

    subject_index: int
    subject: PersonalIdentityNumber
    flagged_by: tuple[Provider, ...]

    __repr__ = _redacted


@attrs.frozen(repr=False, weakref_slot=True)
class CompiledAnswer:
    """The one answer to a query: every requested provider's part for every subject."""

    query_id: UUID
    subjects: tuple[PersonalIdentityNumber, ...]
    parts: tuple[ProviderPart, ...]
    notices: tuple[ProtectedIdentityNotice, ...]
    received_at: dt.datetime
    compiled_at: dt.datetime

    __repr__ = _redacted

    def parts_for(self, subject_index: int) -> tuple[ProviderPart, ...]:
        return tuple(part for part in self.parts if part.subject_index == subject_index)


def notices_for(
    subjects: tuple[PersonalIdentityNumber, ...], parts: tuple[ProviderPart, ...]
) -> tuple[ProtectedIdentityNotice, ...]:
    """One notice per subject that any provider flags, naming the providers that did."""
    notices = []
    for index, subject in enumerate(subjects):
        flagged_by = tuple(
            part.provider
            for part in parts
            if part.subject_index == index and part.flags_protected_identity
        )
        if flagged_by:
            notices.append(ProtectedIdentityNotice(index, subject, flagged_by))
    return tuple(notices)
