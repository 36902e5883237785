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

An unknown key or a bad value raises ``ValueError`` naming the option.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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


def _seconds(text: str, option: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"option {option!r} needs a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"option {option!r} needs a finite number of seconds, 0 or more")
    return value


def parse_latency(text: str) -> Latency:
    """``none``, ``demo``, ``sla``, ``fixed:<seconds>`` or ``lognormal:<median>:<p99>``."""
    form, *numbers = text.strip().lower().split(":")
    if form in _PRESETS and not numbers:
        return _PRESETS[form]
    if form == "fixed" and len(numbers) == 1:
        return FixedLatency(_seconds(numbers[0], "latency"))
    if form == "lognormal" and len(numbers) == 2:
        median, p99 = (_seconds(number, "latency") for number in numbers)
        if not 0 < median <= p99:
            raise ValueError("option 'latency' lognormal:<median>:<p99> needs 0 < median <= p99")
        return LogNormalLatency(median=median, p99=p99)
    raise ValueError(f"option 'latency' must be {_LATENCY_FORMS}, got {text!r}")


def _rate(text: str, option: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"option {option!r} needs a number from 0 to 1, got {text!r}") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"option {option!r} needs a number from 0 to 1, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"option 'seed' needs an integer, got {text!r}") from None


def profile_from_options(options: Mapping[str, str]) -> SimulationProfile:
    """The ``SimulationProfile`` the options describe (see the module docstring)."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for the simulated providers; "
            f"known options: {', '.join(OPTIONS)}"
        )
    rates = {option: _rate(options[option], option) for option in RATE_OPTIONS if option in options}
    if sum(rates.values()) > 1.0:
        raise ValueError(f"options {', '.join(RATE_OPTIONS)} must add up to 1 at most")
    return SimulationProfile(
        latency=parse_latency(options["latency"]) if "latency" in options else DEMO_LATENCY,
        seed=_seed(options["seed"]) if "seed" in options else 0,
        **rates,
    )


def build_simulated_base_services(options: Mapping[str, str]) -> dict[Provider, BaseService]:
    """The eight SIMULATED base services, configured by ``options`` (all optional)."""
    shared = {key: value for key, value in options.items() if "." not in key}
    own: dict[Provider, dict[str, str]] = {}
    for key, value in options.items():
        if "." not in key:
            continue
        name, _, option = key.partition(".")
        if name.upper() not in Provider.__members__:
            raise ValueError(
                f"option {key!r} names no provider; known: {', '.join(Provider.__members__)}"
            )
        own.setdefault(Provider[name.upper()], {})[option] = value
    return {
        provider: SimulatedBaseService(
            provider, profile_from_options({**shared, **own.get(provider, {})})
        )
        for provider in Provider
    }
