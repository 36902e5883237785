"""SIMULATED base services from configuration: the ``simulated`` entry point.

Options are strings (``SSBTEK_PROVIDER_OPTIONS=latency=sla,error_rate=0.05``), all
optional:

- ``latency``: ``none``; ``demo`` (the default: median 50 ms, p99 300 ms); ``sla``
  (median 0.5 s, p99 5 s); ``fixed:<seconds>``; ``lognormal:<median>:<p99>`` (seconds).
- ``seed``: an integer (default 0) seeding the fault and latency draws.
- ``error_rate``, ``hang_rate``, ``malformed_rate``, ``unreachable_rate``: shares of calls
  from 0 to 1 (default 0), adding up to 1 at most.

- ``<PROVIDER>.<option>``: any option above for one provider only, over the shared ones,
  e.g. ``latency=sla,MIGRATIONSVERKET.hang_rate=1`` (a provider that never answers).

An unknown key or a bad value raises ``ValueError`` naming every bad option;
``option_problems`` lists them without building anything (``ssbtek serve`` checks first).
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable, Mapping
from typing import Final

from adapters.providers.simulated.profile import (
    DEMO_LATENCY,
    NO_LATENCY,
    SLA_LATENCY,
    FixedLatency,
    Latency,
    LogNormalLatency,
    SimulationProfile,
)
from adapters.providers.simulated.service import SimulatedBaseService
from application.ports import BaseService
from domain.providers import Provider

RATE_OPTIONS: Final = ("error_rate", "hang_rate", "malformed_rate", "unreachable_rate")
OPTIONS: Final = ("latency", "seed", *RATE_OPTIONS)
_PRESETS: Final[Mapping[str, Latency]] = {
    "none": NO_LATENCY,
    "demo": DEMO_LATENCY,
    "sla": SLA_LATENCY,
}
_LATENCY_FORMS: Final = "none, demo, sla, fixed:<seconds> or lognormal:<median>:<p99>"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"needs a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError("needs a finite number of seconds, 0 or more")
    return value


def parse_latency(text: str) -> Latency:
    """``none``, ``demo``, ``sla``, ``fixed:<seconds>`` or ``lognormal:<median>:<p99>``."""
    form, *numbers = text.strip().lower().split(":")
    if form in _PRESETS and not numbers:
        return _PRESETS[form]
    if form == "fixed" and len(numbers) == 1:
        return FixedLatency(_seconds(numbers[0]))
    if form == "lognormal" and len(numbers) == 2:
        median, p99 = (_seconds(number) for number in numbers)
        if not 0 < median <= p99:
            raise ValueError("lognormal:<median>:<p99> needs 0 < median <= p99")
        return LogNormalLatency(median=median, p99=p99)
    raise ValueError(f"must be {_LATENCY_FORMS}, got {text!r}")


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"needs a number from 0 to 1, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"needs an integer, got {text!r}") from None


_PARSERS: Final[Mapping[str, Callable[[str], object]]] = {
    "latency": parse_latency,
    "seed": _seed,
    **dict.fromkeys(RATE_OPTIONS, _rate),
}


def _split(
    options: Mapping[str, str], problems: list[str]
) -> tuple[dict[str, object], dict[Provider, dict[str, object]]]:
    """Shared and per-provider options, parsed; a line in ``problems`` for each bad one."""
    shared: dict[str, object] = {}
    own: dict[Provider, dict[str, object]] = {}
    for key, text in options.items():
        name, dot, option = key.rpartition(".")
        if dot and name.upper() not in Provider.__members__:
            problems.append(f"{key}: names no provider; known: {', '.join(Provider.__members__)}")
            continue
        if option not in _PARSERS:
            problems.append(
                f"{key}: unknown option for the simulated providers; known: {', '.join(OPTIONS)}"
            )
            continue
        try:
            value = _PARSERS[option](text)
        except ValueError as error:
            problems.append(f"{key}: {error}")
            continue
        (own.setdefault(Provider[name.upper()], {}) if dot else shared)[option] = value
    return shared, own


def _profiles(
    options: Mapping[str, str],
) -> tuple[dict[Provider, SimulationProfile], list[str]]:
    problems: list[str] = []
    shared, own = _split(options, problems)
    profiles: dict[Provider, SimulationProfile] = {}
    for provider in Provider:
        values = {**shared, **own.get(provider, {})}
        rates = {option: values[option] for option in RATE_OPTIONS if option in values}
        if sum(typing.cast(float, rate) for rate in rates.values()) > 1.0:
            where = f" for {provider.name}" if provider in own else ""
            line = f"{', '.join(RATE_OPTIONS)}: must add up to 1 at most{where}"
            if line not in problems:
                problems.append(line)
            continue
        if not problems:
            profiles[provider] = SimulationProfile(**values)  # type: ignore[arg-type]
    return profiles, problems


def option_problems(options: Mapping[str, str]) -> list[str]:
    """Every problem with these options, one line each naming the option (none: usable)."""
    return _profiles(options)[1]


def build_profiles(options: Mapping[str, str]) -> dict[Provider, SimulationProfile]:
    """Each provider's ``SimulationProfile``; ``ValueError`` naming every bad option."""
    profiles, problems = _profiles(options)
    if problems:
        raise ValueError("; ".join(problems))
    return profiles


def build_simulated_base_services(options: Mapping[str, str]) -> dict[Provider, BaseService]:
    """The eight SIMULATED base services, configured by ``options`` (all optional)."""
    return {
        provider: SimulatedBaseService(provider, profile)
        for provider, profile in build_profiles(options).items()
    }
