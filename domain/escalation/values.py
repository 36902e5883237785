"""Value objects of an escalation: the parties, who acts, and the forums of 004 § 5 and § 10."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from domain.clauses import RuleBrokenError
from domain.party.values import PartyRole

CLAUSE_POWER_OF_ATTORNEY: Final = "004 § 10.1"


class Forum(enum.Enum):
    """Where a dispute is handled: the cooperation of § 5, then the ladder of § 10."""

    OPERATIONS_COUNCIL_MUNICIPALITIES = "OPERATIONS_COUNCIL_MUNICIPALITIES"
    """Driftsråd of SKR, the municipalities and the operator (§ 5.6-5.8)."""
    OPERATIONS_COUNCIL_PROVIDERS = "OPERATIONS_COUNCIL_PROVIDERS"
    """Driftsråd of SKR, the data providers and the operator (§ 5.6-5.8)."""
    EXPERT_COUNCIL = "EXPERT_COUNCIL"
    """Expertråd: tactical cooperation of every connected party (§ 5.2-5.5)."""
    STEERING_GROUP = "STEERING_GROUP"
    """Objektstyrgrupp, level 1: prepares material, formulates a recommendation (§ 10.2)."""
    DIRECTORS = "DIRECTORS"
    """Level 2: the parties' directors-general / head of office and SKR's CEO (§ 10.3)."""
    OTHER_GROUP = "OTHER_GROUP"
    """Another group that level 2 appoints to produce more material (§ 10.3)."""


COUNCILS: Final = (
    Forum.OPERATIONS_COUNCIL_MUNICIPALITIES,
    Forum.OPERATIONS_COUNCIL_PROVIDERS,
    Forum.EXPERT_COUNCIL,
)
"""The cooperation where a dispute is first negotiated, lowest level first (§ 10.1)."""

MEMBERS: Final[Mapping[Forum, frozenset[PartyRole]]] = {
    Forum.OPERATIONS_COUNCIL_MUNICIPALITIES: frozenset(
        {PartyRole.SKR, PartyRole.MUNICIPALITY, PartyRole.OPERATOR}
    ),
    Forum.OPERATIONS_COUNCIL_PROVIDERS: frozenset(
        {PartyRole.SKR, PartyRole.DATA_PROVIDER, PartyRole.OPERATOR}
    ),
    Forum.EXPERT_COUNCIL: frozenset(PartyRole),
}


def lowest_council(roles: Sequence[PartyRole]) -> Forum:
    """The lowest level of cooperation whose members include every role (§ 10.1, § 5.7)."""
    return next(forum for forum in COUNCILS if set(roles) <= MEMBERS[forum])


@attrs.frozen
class Party:
    """A party to the agreement, by its (public) organisation number and its role here."""

    organisation_number: str
    role: PartyRole


@attrs.frozen
class Acting:
    """Who acts: a party itself, or SKR for a municipality under its power of attorney.

    § 10.1: "SKR bistår kommunerna vid tvistlösning med stöd av fullmakt". The power of
    attorney is recorded as an opaque reference to the signed document.
    """

    party: Party
    on_behalf_of: Party | None = None
    power_of_attorney: str = ""

    def __attrs_post_init__(self) -> None:
        if self.on_behalf_of is None:
            if self.power_of_attorney:
                raise RuleBrokenError(
                    "a power of attorney is given only when acting for another party",
                    CLAUSE_POWER_OF_ATTORNEY,
                )
            return
        if self.party.role is not PartyRole.SKR:
            raise RuleBrokenError(
                "only SKR acts for another party in a dispute", CLAUSE_POWER_OF_ATTORNEY
            )
        if self.on_behalf_of.role is not PartyRole.MUNICIPALITY:
            raise RuleBrokenError(
                "SKR acts only for municipalities in a dispute", CLAUSE_POWER_OF_ATTORNEY
            )
        if not self.power_of_attorney:
            raise RuleBrokenError(
                "SKR acts for a municipality only under its power of attorney",
                CLAUSE_POWER_OF_ATTORNEY,
            )

    @property
    def principal(self) -> Party:
        """The party whose act it is."""
        return self.on_behalf_of or self.party
