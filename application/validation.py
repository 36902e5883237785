"""The rules a query must meet before any provider is asked.

Each broken rule becomes a ``FieldViolation`` naming the request field
(``subjects[3]``, ``providers[0].period``) and the rule, never the value.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from functools import partial
from typing import Final, TypeVar

import attrs

from application.commands import DateParts, PeriodCommand, QueryCommand
from application.errors import InvalidRequestError
from domain.errors import FieldViolation, InvalidValueError
from domain.identity import OrganisationNumber, PersonalIdentityNumber
from domain.providers import Provider
from domain.query.values import LegalBasis, Period, ProviderSelection, Purpose
from domain.service_level import MAX_SUBJECTS

MAX_ID_LENGTH: Final = 64
MAX_NAME_LENGTH: Final = 200
FUTURE_REACH: Final = dt.timedelta(days=366)
"""How far after today a query's period may end (``_period``)."""

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


@attrs.frozen(repr=False)
class ValidQuery:
    """A query that meets every rule: PERSONAL DATA (subjects, case, caseworker)."""

    organisation: OrganisationNumber
    caseworker_id: str
    case_id: str
    purpose: Purpose
    legal_basis: LegalBasis
    period: Period
    subjects: tuple[PersonalIdentityNumber, ...]
    selections: tuple[ProviderSelection, ...]

    def __repr__(self) -> str:
        return "ValidQuery(<personal data redacted>)"


class _Violations:
    def __init__(self) -> None:
        self.found: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.found.append(FieldViolation(field, description))

    def parse(self, field: str, parser: Callable[[], T]) -> T | None:
        try:
            return parser()
        except InvalidValueError as error:
            self.add(field, error.description)
            return None


def _text(violations: _Violations, field: str, value: str, *, limit: int) -> str:
    text = value.strip()
    if not text:
        violations.add(field, "is required")
    elif len(text) > limit:
        violations.add(field, f"must be at most {limit} characters")
    elif not text.isprintable():
        violations.add(field, "must hold printable characters only")
    return text


def _enum(violations: _Violations, field: str, kind: type[E], name: str) -> E | None:
    if not name:
        violations.add(field, "is required")
        return None
    try:
        return kind[name]
    except KeyError:
        violations.add(field, "is not a known value")
        return None


def _date(violations: _Violations, field: str, parts: DateParts) -> dt.date | None:
    if parts == (0, 0, 0):
        violations.add(field, "is required")
        return None
    try:
        return dt.date(*parts)
    except ValueError:
        violations.add(field, "is not a valid calendar date")
        return None


def _period(
    violations: _Violations, field: str, command: PeriodCommand | None, today: dt.date
) -> Period | None:
    """The period the providers report on, checked against the Swedish calendar day.

    Rule: it starts no later than ``today`` and ends at most ``FUTURE_REACH`` (a year)
    after it. Why: the service may be used only for handling an ongoing case of financial
    assistance (004 § 12.4.2; 002, SoL 4 kap.), and such a case asks what the applicant has
    been paid and been granted: payments made and payments decided ahead (the assistance is
    paid out as wages and benefits are, 004 Bilaga 4 § 2.3). A period that has not begun
    holds nothing paid, and one ending decades ahead (2100, 9999) asks for nothing any
    provider has decided; both are refused, naming ``period.start`` or ``period.end``,
    before any provider is asked. ``today`` is the Swedish date of the moment the query
    arrived, never a clock of this module's own.
    """
    if command is None:
        violations.add(field, "is required, with a start and an end date")
        return None
    start = _date(violations, f"{field}.start", command.start)
    end = _date(violations, f"{field}.end", command.end)
    if start is None or end is None:
        return None
    found = len(violations.found)
    if start > today:
        violations.add(f"{field}.start", "must not be after today")
    if end > today + FUTURE_REACH:
        violations.add(
            f"{field}.end", f"must not be more than {FUTURE_REACH.days} days after today"
        )
    period = violations.parse(field, lambda: Period.of(start, end))
    return period if len(violations.found) == found else None


def validate(command: QueryCommand, *, today: dt.date) -> ValidQuery:
    """Return the validated query, or raise ``InvalidRequestError`` listing every violation.

    ``today``: the Swedish date the query arrived, for the periods' rule (``_period``).
    """
    v = _Violations()
    organisation = v.parse(
        "asking_organisation.organisation_number",
        lambda: OrganisationNumber.parse(command.organisation_number),
    )
    if len(command.organisation_name) > MAX_NAME_LENGTH:
        v.add("asking_organisation.name", f"must be at most {MAX_NAME_LENGTH} characters")
    caseworker_id = _text(v, "caseworker_id", command.caseworker_id, limit=MAX_ID_LENGTH)
    case_id = _text(v, "case_id", command.case_id, limit=MAX_ID_LENGTH)
    if len(command.client_request_id) > MAX_ID_LENGTH:
        v.add("client_request_id", f"must be at most {MAX_ID_LENGTH} characters")
    purpose = _enum(v, "purpose", Purpose, command.purpose)
    legal_basis = _enum(v, "legal_basis", LegalBasis, command.legal_basis)
    period = _period(v, "period", command.period, today)

    subjects: list[PersonalIdentityNumber] = []
    if not 1 <= len(command.subjects) <= MAX_SUBJECTS:
        v.add("subjects", f"must hold 1 to {MAX_SUBJECTS} personal identity numbers")
    else:
        for index, raw in enumerate(command.subjects):
            field = f"subjects[{index}]"
            subject = v.parse(field, partial(PersonalIdentityNumber.parse, raw))
            if subject is None:
                continue
            if subject.birth_date > today:
                v.add(field, "must not hold a date of birth after today")
                continue
            if subject in subjects:
                v.add(field, "repeats an earlier subject of the query")
            else:
                subjects.append(subject)

    selections: list[ProviderSelection] = []
    if command.providers:
        seen: set[Provider] = set()
        for index, selection in enumerate(command.providers):
            field = f"providers[{index}]"
            provider = _enum(v, f"{field}.provider", Provider, selection.provider)
            own_period = (
                _period(v, f"{field}.period", selection.period, today)
                if selection.period is not None
                else period
            )
            if provider is None:
                continue
            if provider in seen:
                v.add(f"{field}.provider", "repeats an earlier provider of the query")
                continue
            seen.add(provider)
            if own_period is not None:
                selections.append(ProviderSelection(provider, own_period))
    elif period is not None:
        selections = [ProviderSelection(provider, period) for provider in Provider]

    if v.found:
        raise InvalidRequestError(v.found)
    assert organisation is not None
    assert purpose is not None
    assert legal_basis is not None
    assert period is not None
    return ValidQuery(
        organisation=organisation,
        caseworker_id=caseworker_id,
        case_id=case_id,
        purpose=purpose,
        legal_basis=legal_basis,
        period=period,
        subjects=tuple(subjects),
        selections=tuple(sorted(selections, key=lambda s: list(Provider).index(s.provider))),
    )
