"""Value objects of a party. None of them is personal data except through a caseworker's
pseudonym (``Caseworker.pseudonym``), which is a keyed hash, never the caseworker's id."""

from __future__ import annotations

import datetime as dt
import enum

import attrs


class PartyRole(enum.Enum):
    """What a party is in the service (004 § 1.1, 2.3). Försäkringskassan is both the
    operator and a data provider, so a party has a set of roles."""

    MUNICIPALITY = "MUNICIPALITY"
    """A municipality, through its social welfare committee (Kommun / Socialnämnd)."""
    DATA_PROVIDER = "DATA_PROVIDER"
    """An agency or fund whose base service answers (Uppgiftslämnare)."""
    OPERATOR = "OPERATOR"
    """Runs the technical infrastructure (Driftsparten, Försäkringskassan)."""
    SKR = "SKR"
    """Sveriges Kommuner och Regioner: coordinates, sets the annual fee."""


class PartyStatus(enum.Enum):
    """Where a party stands on a given day: an onboarding step, connected, or gone."""

    APPLIED = "APPLIED"
    """Has applied to SKR; waits for every existing party's acceptance (004 § 9.1.1-9.1.4)."""
    QUALIFIED = "QUALIFIED"
    """Every existing party has accepted (004 § 9.1.5)."""
    COMMISSIONED = "COMMISSIONED"
    """SKR has commissioned the operator to connect it (004 § 9.1.5, 9.2.3)."""
    INTEGRATION_REQUESTED = "INTEGRATION_REQUESTED"
    """The signed order form (or a provider's connection agreement) has arrived (004 § 9.2.4)."""
    INTEGRATION_APPROVED = "INTEGRATION_APPROVED"
    """The operator has approved the technical integration (004 § 9.2.7)."""
    CONNECTED = "CONNECTED"
    """Actual access is enabled; the connection agreement is in force (004 § 9.2.8)."""
    WITHDRAWN = "WITHDRAWN"
    """Left by written notice, after 31 December of the notice's year (004 § 17.1)."""
    TERMINATED = "TERMINATED"
    """Disconnected for an uncured breach (004 § 18.1; 001 § 7.1)."""
    EXITED = "EXITED"
    """Left early because a decision by an authority made it necessary (004 § 17.3)."""


ONBOARDING_ORDER: tuple[PartyStatus, ...] = (
    PartyStatus.APPLIED,
    PartyStatus.QUALIFIED,
    PartyStatus.COMMISSIONED,
    PartyStatus.INTEGRATION_REQUESTED,
    PartyStatus.INTEGRATION_APPROVED,
    PartyStatus.CONNECTED,
)


class RemovalReason(enum.Enum):
    """Why a caseworker's authorisation was removed (004 § 12.4.5)."""

    LEFT_EMPLOYMENT = "LEFT_EMPLOYMENT"
    CHANGED_TASKS = "CHANGED_TASKS"


class BreachNotifier(enum.Enum):
    """Whose written notice of a breach starts the cure period."""

    SKR = "SKR"
    """Any party; 60 days to cure (004 § 18.1)."""
    OPERATOR = "OPERATOR"
    """A municipality under its connection agreement; 30 days to cure (001 § 7.1)."""


class DecisionBody(enum.Enum):
    """Who decided that a party's use of the service must end early (004 § 17.3)."""

    PARLIAMENT = "PARLIAMENT"
    GOVERNMENT = "GOVERNMENT"
    COURT = "COURT"
    AUTHORITY = "AUTHORITY"
    OTHER_SUPERIOR_BODY = "OTHER_SUPERIOR_BODY"


class CaseworkerState(enum.Enum):
    REGISTERED = "REGISTERED"
    """Registered, but has not signed the assurance (Försäkran): may not query (004 § 9.2.9)."""
    AUTHORISED = "AUTHORISED"
    """Has signed the assurance."""
    REVOKED = "REVOKED"
    """Authorisation revoked at once for misuse (004 § 12.4.5)."""
    REMOVED = "REMOVED"
    """Left or changed tasks; the authorisation is removed (004 § 12.4.5)."""


class AccessRefusal(enum.Enum):
    """Why a caseworker of an organisation may not query now. Names match the
    ``AccessPolicy`` port's reason codes."""

    ORGANISATION_NOT_CONNECTED = "ORGANISATION_NOT_CONNECTED"
    CASEWORKER_UNKNOWN = "CASEWORKER_UNKNOWN"
    CASEWORKER_WITHOUT_ASSURANCE = "CASEWORKER_WITHOUT_ASSURANCE"
    CASEWORKER_REVOKED = "CASEWORKER_REVOKED"


@attrs.frozen
class OrderForm:
    """The municipality's order form (001 Bilaga 1), or a provider's signed connection
    agreement (004 § 9.3.3), as the operator received it: who signed, what was attached."""

    signed_on: dt.date
    signed_by_authorised_representative: bool
    power_of_attorney_attached: bool
    proof_of_authority_attached: bool


@attrs.frozen
class Caseworker:
    """A caseworker of a municipality, known only by a keyed pseudonym."""

    pseudonym: str
    registered_on: dt.date
    assurance_signed_on: dt.date | None = None
    revoked_on: dt.date | None = None
    removed_on: dt.date | None = None
    removal_reason: RemovalReason | None = None

    @property
    def state(self) -> CaseworkerState:
        if self.removed_on is not None:
            return CaseworkerState.REMOVED
        if self.revoked_on is not None:
            return CaseworkerState.REVOKED
        if self.assurance_signed_on is not None:
            return CaseworkerState.AUTHORISED
        return CaseworkerState.REGISTERED


@attrs.frozen
class Breach:
    """A written notice of a breach, and its cure period (both ends in the notice's days)."""

    notified_by: BreachNotifier
    notified_on: dt.date
    cure_ends_on: dt.date
    remedied_on: dt.date | None = None


@attrs.frozen
class QualificationChange:
    """A provider's written notice that its conditions for qualifying the municipality
    changed; the municipality has until ``comply_by`` to comply (001 § 7.2)."""

    provider_organisation: str
    notified_on: dt.date
    comply_by: dt.date
    complied_on: dt.date | None = None
    service_stopped_on: dt.date | None = None

    @property
    def is_open(self) -> bool:
        return self.complied_on is None and self.service_stopped_on is None


@attrs.frozen
class Deadlines:
    """The dates that matter to a party now, each computed by the rules of ``rules.py``."""

    connection_target: dt.date | None = None
    """10 working days after the operator approved the integration (004 § 9.2.7)."""
    connected_within_target: bool | None = None
    """Once connected: whether it happened by the target."""
    withdrawal_effective_on: dt.date | None = None
    """31 December of the year the withdrawal takes effect (004 § 17.1)."""
    cure_period_ends_on: dt.date | None = None
    """Last day to cure an open breach (004 § 18.1; 001 § 7.1)."""
    cure_notified_by: BreachNotifier | None = None
    forced_exit_on: dt.date | None = None
    """First day without access after a decision by an authority (004 § 17.3)."""
    compliance_deadlines: tuple[QualificationChange, ...] = ()
    """Open changes of a provider's qualification conditions (001 § 7.2)."""
