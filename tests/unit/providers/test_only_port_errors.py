"""A provider adapter raises nothing but the port's errors (``BaseServiceError``).

Over the whole space the port accepts (any identity number, any period the domain
admits, from year 1 to 9999; every provider; every simulated fault but the hang, which
is no exception) a simulated base service answers or raises a ``BaseServiceError``.
Pensionsmyndigheten once raised ``ValueError`` on a period in December 9999 (stepping to
the month after it) for a subject born long enough ago to draw a pension.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from adapters.providers.simulated.catalogue import simulated_record
from adapters.providers.simulated.profile import NO_LATENCY, SimulationProfile
from adapters.providers.simulated.service import SimulatedBaseService
from application.ports import BaseServiceError
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.values import MAX_PERIOD, Period

EDGES = [
    dt.date.min,
    dt.date(1, 1, 28),
    dt.date(1850, 1, 1),
    dt.date(2199, 12, 31),
    dt.date(9998, 12, 31),
    dt.date(9999, 12, 1),
    dt.date(9999, 12, 31),
]


@st.composite
def subjects(draw: st.DrawFn) -> PersonalIdentityNumber:
    born = draw(st.dates(dt.date(1850, 1, 1), dt.date(9999, 12, 31)))
    day = born.day + (60 if draw(st.booleans()) else 0)
    body = f"{born.year % 100:02d}{born.month:02d}{day:02d}{draw(st.integers(0, 999)):03d}"
    return PersonalIdentityNumber.parse(
        f"{born.year // 100:02d}{body}{luhn.calc_check_digit(body)}"
    )


@st.composite
def periods(draw: st.DrawFn) -> Period:
    """Periods reaching to and from every end of the calendar, of every length allowed."""
    anchor = draw(st.sampled_from(EDGES) | st.dates())
    days = draw(st.sampled_from([0, 30, 365, MAX_PERIOD.days]) | st.integers(0, MAX_PERIOD.days))
    if draw(st.booleans()):
        return Period.of(anchor, anchor + dt.timedelta(days=min(days, (dt.date.max - anchor).days)))
    return Period.of(anchor - dt.timedelta(days=min(days, (anchor - dt.date.min).days)), anchor)


PENSIONER = PersonalIdentityNumber.parse("19121212-1212")
YEAR_9999 = Period(dt.date(9999, 1, 1), dt.date(9999, 12, 31))


@settings(max_examples=1_500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subjects() | st.just(PENSIONER), periods(), st.sampled_from(list(Provider)))
@example(PENSIONER, YEAR_9999, Provider.PENSIONSMYNDIGHETEN)
def test_the_adapter_step_raises_only_the_ports_errors(
    subject: PersonalIdentityNumber, period: Period, provider: Provider
) -> None:
    with contextlib.suppress(BaseServiceError):
        simulated_record(provider, subject, period)


@settings(max_examples=300, deadline=None)
@given(
    subjects() | st.just(PENSIONER),
    periods(),
    st.sampled_from(list(Provider)),
    st.none() | st.integers(0, 2**31),
)
@example(PENSIONER, YEAR_9999, Provider.PENSIONSMYNDIGHETEN, None)
async def test_a_simulated_base_service_raises_only_the_ports_errors_whatever_its_fault(
    subject: PersonalIdentityNumber, period: Period, provider: Provider, seed: int | None
) -> None:
    """``seed``: the faults' seed, or ``None`` for a provider that always answers."""
    profile = (
        SimulationProfile(latency=NO_LATENCY)
        if seed is None
        else SimulationProfile(
            latency=NO_LATENCY, error_rate=0.2, malformed_rate=0.2, unreachable_rate=0.2, seed=seed
        )
    )
    service = SimulatedBaseService(provider, profile)
    try:
        answer = await service.fetch(subject, period)
    except BaseServiceError:
        return
    assert answer.provider is provider
