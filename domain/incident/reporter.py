"""Who reported an incident, without naming a person (Bilaga 4 § 3.3.1.1).

A person reports through the local IT support of their organisation; the operator knows
the reporter as that organisation's number and the organisation's own opaque ticket or
contact reference. Incidents found by the service's own monitoring (§ 3.2: "incidenter
som upptäcks via övervakning") have the monitoring as reporter.
"""

from __future__ import annotations

import enum

import attrs

from domain.reference import opaque_reference, organisation_digits


class ReporterKind(enum.Enum):
    ORGANISATION = "ORGANISATION"
    """Reported to the single point of contact by a party's local IT support."""
    MONITORING = "MONITORING"
    """Registered automatically by the service's own monitoring (Bilaga 4 § 3.2, § 3.8)."""


@attrs.frozen
class Reporter:
    """An organisation number and an opaque reference, or the monitoring."""

    kind: ReporterKind
    organisation_number: str = ""
    reference: str = ""

    @classmethod
    def organisation(cls, organisation_number: str, reference: str) -> Reporter:
        """Raises ``InvalidValueError`` naming the rule when either part is not acceptable."""
        return cls(
            ReporterKind.ORGANISATION,
            organisation_digits(organisation_number),
            opaque_reference(reference),
        )

    @classmethod
    def monitoring(cls) -> Reporter:
        return cls(ReporterKind.MONITORING)
