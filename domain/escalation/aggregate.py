"""The ``Escalation`` aggregate: a dispute between parties and the ladder it climbs (004 § 10).

§ 10.1: a dispute is first negotiated and decided at the lowest effective level of the
cooperation of § 5 (an operations council, or the expert council). Then a party may have
it escalated: level 1, the steering group (§ 10.2), where each involved party formulates
its view when needed ("vid behov") and the group prepares material and a recommendation;
level 2, the directors (§ 10.3), who decide finally and may have the steering group or
another group produce more material first. SKR assists municipalities under their power
of attorney (§ 10.1).

Subjects, views, recommendations, material, groups, decisions and powers of attorney are
opaque references to the parties' documents (``domain.reference``, checked again here as
each is recorded): no free text, so nothing personal is stored.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Final
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.clauses import RuleBrokenError
from domain.escalation.values import COUNCILS, MEMBERS, Acting, Forum, Party, lowest_council
from domain.reference import stored_reference

CLAUSE_COUNCIL: Final = "004 § 10.1, § 5"
CLAUSE_LEVEL_1: Final = "004 § 10.2"
CLAUSE_LEVEL_2: Final = "004 § 10.3"


class Stage(enum.Enum):
    COUNCIL = "COUNCIL"
    """Negotiated at the lowest effective level of cooperation (§ 10.1)."""
    LEVEL_1 = "LEVEL_1"
    """At the steering group (§ 10.2)."""
    LEVEL_2 = "LEVEL_2"
    """With the directors-general / head of office and SKR's CEO (§ 10.3)."""
    MATERIAL_REQUESTED = "MATERIAL_REQUESTED"
    """Level 2 has asked another group for more material (§ 10.3)."""
    SETTLED = "SETTLED"
    """Decided at the council: final."""
    DECIDED = "DECIDED"
    """Decided by level 2: final."""


class Escalation(Aggregate):
    class Raised(Aggregate.Created):
        raised_by: Acting
        parties: list[Party]
        subject: str
        forum: Forum

        def apply(self, aggregate: Escalation) -> None:
            aggregate.raised_by = self.raised_by
            aggregate.parties = list(self.parties)
            aggregate.subject = self.subject
            aggregate.forum = self.forum

    class ReferredToExpertCouncil(Aggregate.Event):
        by: Acting

        def apply(self, aggregate: Escalation) -> None:
            aggregate.forum = Forum.EXPERT_COUNCIL

    class Settled(Aggregate.Event):
        outcome: str

        def apply(self, aggregate: Escalation) -> None:
            aggregate.stage = Stage.SETTLED
            aggregate.outcome = self.outcome

    class Escalated(Aggregate.Event):
        to: Stage
        by: Acting

        def apply(self, aggregate: Escalation) -> None:
            aggregate.stage = self.to
            aggregate.forum = Forum.STEERING_GROUP if self.to is Stage.LEVEL_1 else Forum.DIRECTORS
            aggregate.escalated_by.append(self.by)

    class ViewSubmitted(Aggregate.Event):
        party: Party
        by: Acting
        view: str

        def apply(self, aggregate: Escalation) -> None:
            aggregate.views[self.party.organisation_number] = self.view

    class RecommendationRecorded(Aggregate.Event):
        """``without_view``: the parties (organisation numbers) that had given no view when
        the recommendation was made; § 10.2 asks a view "vid behov", so none is required."""

        recommendation: str
        without_view: list[str]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 was recorded only once every party had given its view."""
            state["without_view"] = []

        def apply(self, aggregate: Escalation) -> None:
            aggregate.recommendations.append(self.recommendation)
            aggregate.recommendation_pending = False

    class MaterialRequested(Aggregate.Event):
        from_forum: Forum
        group: str

        def apply(self, aggregate: Escalation) -> None:
            aggregate.material_requests.append((self.from_forum, self.group))
            if self.from_forum is Forum.STEERING_GROUP:
                aggregate.stage = Stage.LEVEL_1
                aggregate.forum = Forum.STEERING_GROUP
                aggregate.recommendation_pending = True
            else:
                aggregate.stage = Stage.MATERIAL_REQUESTED
                aggregate.forum = Forum.OTHER_GROUP

    class MaterialProvided(Aggregate.Event):
        material: str

        def apply(self, aggregate: Escalation) -> None:
            aggregate.material.append(self.material)
            aggregate.stage = Stage.LEVEL_2
            aggregate.forum = Forum.DIRECTORS

    class Decided(Aggregate.Event):
        decision: str

        def apply(self, aggregate: Escalation) -> None:
            aggregate.stage = Stage.DECIDED
            aggregate.outcome = self.decision

    def __init__(self) -> None:
        self.stage = Stage.COUNCIL
        self.forum = Forum.EXPERT_COUNCIL
        self.raised_by: Acting | None = None
        self.parties: list[Party] = []
        self.subject = ""
        self.outcome = ""
        self.escalated_by: list[Acting] = []
        self.views: dict[str, str] = {}
        self.recommendations: list[str] = []
        self.recommendation_pending = True
        self.material_requests: list[tuple[Forum, str]] = []
        self.material: list[str] = []

    @classmethod
    def raise_dispute(
        cls,
        *,
        escalation_id: UUID,
        raised_by: Acting,
        parties: list[Party],
        subject: str,
        forum: Forum | None,
        at: dt.datetime,
    ) -> Escalation:
        """A party raises a dispute at a council; by default the lowest that seats every party."""
        involved = list(dict.fromkeys(parties))
        if len({p.organisation_number for p in involved}) < 2:
            raise RuleBrokenError("a dispute is between at least two parties", CLAUSE_COUNCIL)
        if raised_by.principal not in involved:
            raise RuleBrokenError("a dispute is raised by a party to it", CLAUSE_COUNCIL)
        roles = [p.role for p in involved]
        chosen = forum or lowest_council(roles)
        if chosen not in COUNCILS:
            raise RuleBrokenError(
                "a dispute is first handled in the cooperation of § 5, not on the ladder",
                CLAUSE_COUNCIL,
            )
        if not set(roles) <= MEMBERS[chosen]:
            raise RuleBrokenError("the council does not seat every party", CLAUSE_COUNCIL)
        return cls._create(
            cls.Raised,
            id=escalation_id,
            timestamp=at,
            raised_by=_checked(raised_by),
            parties=involved,
            subject=stored_reference("subject", subject),
            forum=chosen,
        )

    @property
    def level(self) -> int:
        """0 at the council, 1 at the steering group, 2 with the directors."""
        return {Stage.LEVEL_1: 1, Stage.LEVEL_2: 2, Stage.MATERIAL_REQUESTED: 2}.get(self.stage, 0)

    @property
    def is_final(self) -> bool:
        return self.stage in (Stage.SETTLED, Stage.DECIDED)

    @property
    def missing_views(self) -> list[Party]:
        return [p for p in self.parties if p.organisation_number not in self.views]

    def refer_to_expert_council(self, by: Acting, *, at: dt.datetime) -> None:
        """An operations council passes the dispute to the expert council (§ 5.6)."""
        self._require(Stage.COUNCIL, CLAUSE_COUNCIL)
        self._require_party(by, CLAUSE_COUNCIL)
        if self.forum is Forum.EXPERT_COUNCIL:
            raise RuleBrokenError("the dispute is already at the expert council", CLAUSE_COUNCIL)
        self.trigger_event(self.ReferredToExpertCouncil, timestamp=at, by=by)

    def settle(self, outcome: str, *, at: dt.datetime) -> None:
        """Decided at the lowest effective level: the dispute ends there (§ 10.1)."""
        self._require(Stage.COUNCIL, CLAUSE_COUNCIL)
        self.trigger_event(self.Settled, timestamp=at, outcome=stored_reference("outcome", outcome))

    def escalate(self, by: Acting, *, at: dt.datetime) -> None:
        """A party calls for the next level: council -> level 1 -> level 2."""
        self._require_party(by, CLAUSE_LEVEL_1)
        if self.stage is Stage.COUNCIL:
            self.trigger_event(self.Escalated, timestamp=at, to=Stage.LEVEL_1, by=by)
        elif self.stage is Stage.LEVEL_1:
            if self.recommendation_pending:
                raise RuleBrokenError(
                    "the steering group formulates its recommendation before level 2",
                    CLAUSE_LEVEL_1,
                )
            self.trigger_event(self.Escalated, timestamp=at, to=Stage.LEVEL_2, by=by)
        else:
            raise RuleBrokenError("there is no level above level 2", CLAUSE_LEVEL_2)

    def submit_view(self, by: Acting, view: str, *, at: dt.datetime) -> None:
        """A party (or SKR for it) formulates its view of the problem (§ 10.2)."""
        self._require(Stage.LEVEL_1, CLAUSE_LEVEL_1)
        self._require_party(by, CLAUSE_LEVEL_1)
        self.trigger_event(
            self.ViewSubmitted,
            timestamp=at,
            party=by.principal,
            by=by,
            view=stored_reference("view", view),
        )

    def record_recommendation(self, recommendation: str, *, at: dt.datetime) -> None:
        """The steering group's recommendation to level 2. Each party gives its view "vid
        behov" (when needed, § 10.2): a missing view does not hold the ladder up; the event
        records who had given none."""
        self._require(Stage.LEVEL_1, CLAUSE_LEVEL_1)
        self.trigger_event(
            self.RecommendationRecorded,
            timestamp=at,
            recommendation=stored_reference("recommendation", recommendation),
            without_view=[p.organisation_number for p in self.missing_views],
        )

    def request_material(self, from_forum: Forum, group: str, *, at: dt.datetime) -> None:
        """Level 2 sends the dispute back to the steering group or another group (§ 10.3)."""
        self._require(Stage.LEVEL_2, CLAUSE_LEVEL_2)
        if from_forum not in (Forum.STEERING_GROUP, Forum.OTHER_GROUP):
            raise RuleBrokenError(
                "level 2 asks the steering group or another group for material", CLAUSE_LEVEL_2
            )
        self.trigger_event(
            self.MaterialRequested,
            timestamp=at,
            from_forum=from_forum,
            group=stored_reference("group", group),
        )

    def provide_material(self, material: str, *, at: dt.datetime) -> None:
        """The other group's material reaches level 2 again."""
        self._require(Stage.MATERIAL_REQUESTED, CLAUSE_LEVEL_2)
        self.trigger_event(
            self.MaterialProvided, timestamp=at, material=stored_reference("material", material)
        )

    def decide(self, decision: str, *, at: dt.datetime) -> None:
        """Level 2 decides finally (§ 10.3)."""
        self._require(Stage.LEVEL_2, CLAUSE_LEVEL_2)
        self.trigger_event(
            self.Decided, timestamp=at, decision=stored_reference("decision", decision)
        )

    def _require(self, stage: Stage, clause: str) -> None:
        if self.is_final:
            raise RuleBrokenError("the dispute has been decided", clause)
        if self.stage is not stage:
            raise RuleBrokenError(f"the dispute is not at {stage.value}", clause)

    def _require_party(self, by: Acting, clause: str) -> None:
        _checked(by)
        if self.is_final:
            raise RuleBrokenError("the dispute has been decided", clause)
        if by.principal not in self.parties:
            raise RuleBrokenError("only a party to the dispute acts in it", clause)


def _checked(by: Acting) -> Acting:
    """The actor as it may be recorded: a power of attorney is an opaque reference."""
    if by.power_of_attorney:
        stored_reference("power_of_attorney", by.power_of_attorney)
    return by
