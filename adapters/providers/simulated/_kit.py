"""SIMULATED data providers: what the eight simulations share.

- ``ProviderSimulation``: how one simulated provider answers and how its answer is read.
- ``structure``: the ``cattrs`` step that reads a raw, wire-shaped payload (plain dicts of
  the provider's own Swedish field names, values as they arrive in XML or JSON) into
  typed wire classes. It is strict: a missing field, a value of the wrong shape or a
  value that does not parse is refused with ``MalformedAnswerError``, whose message
  names the provider and never any of the payload's content.
- Formatting helpers that write values the way the providers put them on the wire.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from application.ports import MalformedAnswerError
from domain.identity import PersonalIdentityNumber
from domain.provider_data import ProviderData
from domain.providers import PROFILES, Provider
from domain.query.values import Period

W = TypeVar("W")
Payload = dict[str, Any]

_STOCKHOLM: Final = ZoneInfo("Europe/Stockholm")
_ISO_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?")
_COMPACT_DATE: Final = re.compile(r"(\d{4})(\d{2})(\d{2})")
_INTEGER: Final = re.compile(r"-?\d{1,9}")  # the int32 range of the public contract
_DECIMAL: Final = re.compile(r"-?\d{1,15}(?:\.\d{1,6})?")
_LARGEST_AMOUNT: Final = Decimal(10) ** 15


@attrs.frozen
class ProviderSimulation:
    """One simulated provider: its answers, its failures, and the adapter that reads them.

    ``answer`` builds the wire payload of a normal answer; ``failure`` the payload of a
    failure the provider itself reports; ``interpret`` is the adapter step (``cattrs``
    plus the provider's own rules) and raises ``BaseServiceReportedError`` for a reported
    failure and ``MalformedAnswerError`` for anything it cannot read. ``essential_keys``
    are top-level keys the adapter cannot do without (used to garble answers).
    """

    provider: Provider
    answer: Callable[[PersonalIdentityNumber, Period], Payload]
    failure: Callable[[random.Random], Payload]
    interpret: Callable[[object, PersonalIdentityNumber], ProviderData]
    essential_keys: tuple[str, ...]


def malformed(provider: Provider, what: str) -> MalformedAnswerError:
    """An error naming the provider and the kind of problem: never the payload's content."""
    return MalformedAnswerError(f"{PROFILES[provider].name} answered with {what}")


def _refuse(kind: str) -> TypeError:
    return TypeError(f"expected {kind}")


def _structure_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise _refuse("a string")
    return value


def _structure_bool(value: object, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "false", "0"}:
        return value.strip().lower() in {"true", "1"}
    raise _refuse("a boolean")


def _structure_int(value: object, _: type) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**9:
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise _refuse("an integer")


def _structure_decimal(value: object, _: type) -> Decimal:
    if isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))  # JSON numbers (Lefi): the shortest faithful form
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        amount = Decimal(value.strip())
    else:
        raise _refuse("a decimal number")
    if not amount.is_finite() or abs(amount) >= _LARGEST_AMOUNT:
        raise _refuse("a finite decimal number below a thousand billion")
    return amount


def _structure_date(value: object, _: type) -> dt.date:
    """``2024-05-17``, ``2016-11-18+01:00`` (XML date with zone) or ``20240517`` (CSN)."""
    if isinstance(value, str):
        match = _ISO_DATE.fullmatch(value.strip()) or _COMPACT_DATE.fullmatch(value.strip())
        if match:
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                pass
    raise _refuse("a date")


def _mapping_only(cls: type[W], structure_fn: Callable[[Any, type[W]], W]) -> Callable[..., W]:
    """A class is read from a mapping only (cattrs would take a list for all-default classes)."""

    def structure_from_mapping(value: object, _: type) -> W:
        if not isinstance(value, Mapping):
            raise _refuse("a mapping")
        return structure_fn(value, cls)

    return structure_from_mapping


def _attrs_class_hook(cls: type[Any]) -> Callable[..., Any]:
    return _mapping_only(cls, make_dict_structure_fn(cls, CONVERTER))


def register_renamed(cls: type[Any], field: str, wire_name: str) -> None:
    """Read ``cls`` with ``field`` named ``wire_name`` on the wire (``from_`` from ``from``)."""
    overrides: dict[str, Any] = {field: override(rename=wire_name)}
    CONVERTER.register_structure_hook(
        cls, _mapping_only(cls, make_dict_structure_fn(cls, CONVERTER, **overrides))
    )


CONVERTER: Final = cattrs.Converter()
CONVERTER.register_structure_hook_factory(attrs.has, _attrs_class_hook)
CONVERTER.register_structure_hook(str, _structure_str)
CONVERTER.register_structure_hook(bool, _structure_bool)
CONVERTER.register_structure_hook(int, _structure_int)
CONVERTER.register_structure_hook(Decimal, _structure_decimal)
CONVERTER.register_structure_hook(dt.date, _structure_date)


def structure(provider: Provider, payload: object, wire: type[W]) -> W:
    """Read ``payload`` into the wire class ``wire``, or refuse it as malformed.

    The ``cattrs`` error (which may quote the payload) is dropped before raising, so
    neither the message nor the exception chain carries any of the payload's content.
    """
    refused = False
    try:
        result = CONVERTER.structure(payload, wire)
    except Exception:  # any failure to read is a malformed answer
        refused = True
    if refused:
        raise malformed(provider, "a payload that does not match its schema")
    return result


# --- How the providers write values on the wire --------------------------------------


def iso(day: dt.date) -> str:
    return day.isoformat()


def xml_date(day: dt.date) -> str:
    """An ``xs:date`` with the Swedish zone offset of that day, e.g. ``2016-11-18+01:00``."""
    offset = dt.datetime.combine(day, dt.time(12), tzinfo=_STOCKHOLM).strftime("%z")
    return f"{day.isoformat()}{offset[:3]}:{offset[3:]}"


def compact_date(day: dt.date) -> str:
    """CSN's ``datum``: ``YYYYMMDD``."""
    return day.strftime("%Y%m%d")


def iso_week(day: dt.date) -> str:
    """CSN's ``vecka``: ISO year and week, ``YYYYWW``."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}{week:02d}"


def xml_bool(value: bool) -> str:
    return "true" if value else "false"


def sek(amount: Decimal) -> str:
    """An ``xs:decimal`` amount with two decimals, e.g. ``1250.50``."""
    return f"{amount:.2f}"


def whole_kronor(amount: float) -> Decimal:
    return Decimal(round(amount))


def ore(amount: float) -> Decimal:
    return Decimal(f"{amount:.2f}")


def same_subject(provider: Provider, answered: str, subject: PersonalIdentityNumber) -> None:
    """The answer must be about the subject asked about (12 digits, or 10 with century)."""
    if answered.strip() != subject.digits:
        raise malformed(provider, "an answer about another subject")
