"""Domain refusals and store conflicts, reported as the application's errors.

``RuleBrokenError`` -> ``RuleViolationError`` (rule and clause); a missing aggregate or
caseworker -> ``NotFoundError``; eventsourcing's ``IntegrityError`` (another writer saved
the same aggregate version first) -> ``ConflictError``; a refused value ->
``InvalidRequestError`` naming the field. No message carries a value.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.errors import ConflictError, InvalidRequestError, NotFoundError, RuleViolationError
from domain.agreement.aggregate import UnknownVersionError
from domain.clauses import RuleBrokenError
from domain.errors import FieldViolation, InvalidFieldError, InvalidValueError
from domain.party.roster import UnknownCaseworkerError


@contextmanager
def reported(missing: str) -> Iterator[None]:
    """Translate what a use case may meet; ``missing`` names what a failed lookup sought."""
    try:
        yield
    except RuleBrokenError as error:
        raise RuleViolationError(error.rule, error.clause) from None
    except InvalidFieldError as error:
        raise InvalidRequestError([FieldViolation(error.field, error.description)]) from None
    except UnknownCaseworkerError:
        raise NotFoundError("caseworker") from None
    except UnknownVersionError:
        raise NotFoundError("document version") from None
    except AggregateNotFoundError:
        raise NotFoundError(missing) from None
    except IntegrityError:
        raise ConflictError from None


@contextmanager
def field(name: str) -> Iterator[None]:
    """A value object's refusal becomes an invalid-argument error naming ``name``."""
    try:
        yield
    except InvalidValueError as error:
        raise InvalidRequestError([FieldViolation(name, error.description)]) from None
