"""``Escalations``: disputes between the parties and the escalation ladder of 004 § 10."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Transcoding

from application.base import ServiceApplication
from application.errors import ConflictError, NotFoundError
from application.incidents import reported_rules
from application.ports import Clock
from application.registrations import Page, Registrations
from domain.escalation.aggregate import Escalation
from domain.escalation.values import Acting, Forum, Party


class Escalations(ServiceApplication):
    """Raises disputes and moves them up (and back down) the ladder."""

    name = "Escalations"

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        clock: Clock,
        transcodings: Sequence[Transcoding],
    ) -> None:
        self._clock = clock
        super().__init__(env=env, transcodings=transcodings)
        self.registrations = Registrations(self.recorder, self.mapper, [Escalation.Raised])

    def raise_dispute(
        self,
        raised_by: Acting,
        parties: Sequence[Party],
        subject: str,
        *,
        forum: Forum | None = None,
    ) -> UUID:
        with reported_rules():
            escalation = Escalation.raise_dispute(
                escalation_id=uuid.uuid4(),
                raised_by=raised_by,
                parties=list(parties),
                subject=subject,
                forum=forum,
                at=self._clock.now(),
            )
        self._save(escalation)
        return escalation.id

    def refer_to_expert_council(self, escalation_id: UUID, by: Acting) -> Escalation:
        with self._changing(escalation_id) as escalation:
            escalation.refer_to_expert_council(by, at=self._clock.now())
        return escalation

    def settle(self, escalation_id: UUID, outcome: str) -> Escalation:
        with self._changing(escalation_id) as escalation:
            escalation.settle(outcome, at=self._clock.now())
        return escalation

    def escalate(self, escalation_id: UUID, by: Acting) -> Escalation:
        with self._changing(escalation_id) as escalation:
            escalation.escalate(by, at=self._clock.now())
        return escalation

    def submit_view(self, escalation_id: UUID, by: Acting, view: str) -> Escalation:
        with self._changing(escalation_id) as escalation:
            escalation.submit_view(by, view, at=self._clock.now())
        return escalation

    def record_recommendation(self, escalation_id: UUID, recommendation: str) -> Escalation:
        with self._changing(escalation_id) as escalation:
            escalation.record_recommendation(recommendation, at=self._clock.now())
        return escalation

    def request_material(self, escalation_id: UUID, from_forum: Forum, group: str) -> Escalation:
        with self._changing(escalation_id) as escalation:
            escalation.request_material(from_forum, group, at=self._clock.now())
        return escalation

    def provide_material(self, escalation_id: UUID, material: str) -> Escalation:
        with self._changing(escalation_id) as escalation:
            escalation.provide_material(material, at=self._clock.now())
        return escalation

    def decide(self, escalation_id: UUID, decision: str) -> Escalation:
        with self._changing(escalation_id) as escalation:
            escalation.decide(decision, at=self._clock.now())
        return escalation

    def get_escalation(self, escalation_id: UUID) -> Escalation:
        try:
            found: object = self.repository.get(escalation_id)
        except AggregateNotFoundError:
            raise NotFoundError("escalation") from None
        if not isinstance(found, Escalation):
            raise NotFoundError("escalation")
        return found

    def list_escalations(self, *, open_only: bool = False, limit: int = 100) -> list[Escalation]:
        """Newest first; ``open_only`` leaves out settled and decided disputes."""
        return self.page_escalations(open_only=open_only, limit=limit).items

    def page_escalations(
        self, *, open_only: bool = False, limit: int = 100, before: int | None = None
    ) -> Page[Escalation]:
        """One page of ``list_escalations``: newest first, raised before position ``before``."""

        def load(escalation_id: UUID) -> Escalation | None:
            escalation = self.get_escalation(escalation_id)
            return None if open_only and escalation.is_final else escalation

        return self.registrations.page(load, limit=limit, before=before)

    @contextmanager
    def _changing(self, escalation_id: UUID) -> Iterator[Escalation]:
        escalation = self.get_escalation(escalation_id)
        with reported_rules():
            yield escalation
        self._save(escalation)

    def _save(self, escalation: Escalation) -> None:
        try:
            self.save(escalation)
        except IntegrityError:
            raise ConflictError from None
