"""The error a broken rule of the agreement raises: which rule, and the clause it stands in.

Clause references (``004 § 9.1.5``, ``001 § 7.2``) point into the seed documents: 004 is
*SSBTEK – Beskrivning och tjänstespecifika villkor*, 001 the municipality's connection
agreement, 000 SKR's page on agreements and fees, 002 the operator's page on connecting.
"""

from __future__ import annotations

from domain.errors import DomainError


class RuleBrokenError(DomainError):
    """A command does not fit the agreement. ``rule`` names the rule (never a value),
    ``clause`` where it stands."""

    def __init__(self, rule: str, clause: str) -> None:
        super().__init__(f"{rule} ({clause})")
        self.rule = rule
        self.clause = clause
