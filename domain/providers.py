"""The eight data providers (uppgiftslämnare) and what the service knows about each.

The catalogue is public information from 004 Bilaga 2 and Bilaga 4 § 3.3.3.
"""

from __future__ import annotations

import datetime as dt
import enum
from zoneinfo import ZoneInfo

import attrs

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class Provider(enum.Enum):
    """A data provider whose base service (bastjänst) answers queries."""

    ARBETSFORMEDLINGEN = "ARBETSFORMEDLINGEN"
    CSN = "CSN"
    FORSAKRINGSKASSAN = "FORSAKRINGSKASSAN"
    MIGRATIONSVERKET = "MIGRATIONSVERKET"
    PENSIONSMYNDIGHETEN = "PENSIONSMYNDIGHETEN"
    SKATTEVERKET = "SKATTEVERKET"
    UNEMPLOYMENT_FUNDS = "UNEMPLOYMENT_FUNDS"
    TRANSPORTSTYRELSEN = "TRANSPORTSTYRELSEN"


@attrs.frozen
class OpeningHours:
    """Weekly opening hours in Europe/Stockholm local time; ``None`` means always open."""

    weekdays: frozenset[int]  # 0 = Monday
    opens: dt.time
    closes: dt.time
    description: str

    def is_open_at(self, moment: dt.datetime) -> bool:
        if moment.tzinfo is None:
            raise ValueError("opening hours need an aware datetime")
        local = moment.astimezone(STOCKHOLM)
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes


ALWAYS_OPEN = OpeningHours(
    weekdays=frozenset(range(7)),
    opens=dt.time(0, 0),
    closes=dt.time.max,
    description="always open",
)

TRANSPORTSTYRELSEN_HOURS = OpeningHours(
    weekdays=frozenset(range(5)),
    opens=dt.time(8, 0),
    closes=dt.time(16, 30),
    description="Monday-Friday 08:00-16:30 Europe/Stockholm (004 Bilaga 4 § 3.3.3)",
)


@attrs.frozen
class ProviderProfile:
    """What a provider returns, under which legal basis, and when its base service answers."""

    provider: Provider
    name: str
    data_kinds: tuple[str, ...]
    legal_basis: tuple[str, ...]
    opening_hours: OpeningHours


CATALOGUE: tuple[ProviderProfile, ...] = (
    ProviderProfile(
        Provider.ARBETSFORMEDLINGEN,
        "Arbetsförmedlingen",
        ("registration as job seeker", "activity and establishment support"),
        ("förordning (2002:623) 16 §", "SoL 11 kap. 11 a §", "förordning (2008:975) 5 §"),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.CSN,
        "Centrala studiestödsnämnden",
        ("student grants and loans paid",),
        ("studiestödsdataförordningen (2009:321) 13 §", "förordning (2008:975) 2 §"),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.FORSAKRINGSKASSAN,
        "Försäkringskassan",
        ("benefits and allowances: amounts and payment dates",),
        ("socialförsäkringsbalken 114 kap. 8 § p. 4 och 24 §", "förordning (2008:975) 3 §"),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.MIGRATIONSVERKET,
        "Migrationsverket",
        ("residence and work permits: kind, validity, decision and revocation dates",),
        ("OSL 6 kap. 5 §", "utlänningsdatalagen (2016:27) 11-13 §§", "GDPR art. 6.1 e"),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.PENSIONSMYNDIGHETEN,
        "Pensionsmyndigheten",
        ("pensions and pension-related benefits",),
        ("socialförsäkringsbalken 114 kap.", "förordning (2008:975) 3 §"),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.SKATTEVERKET,
        "Skatteverket",
        ("taxed income and tax assessment",),
        ("lag (2001:181) 2 kap. 8 a §", "förordning (2008:975) 3 §"),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.UNEMPLOYMENT_FUNDS,
        "Sveriges a-kassor",
        ("unemployment insurance payments",),
        ("SoL 11 kap. 11 §", "förordning (2008:975) 4 §", "GDPR art. 6.1 c"),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.TRANSPORTSTYRELSEN,
        "Transportstyrelsen",
        ("vehicles owned: registration number, make, model year, type, trade name",),
        ("vägtrafikdatalagen (2019:369) 3 kap. 4 §",),
        TRANSPORTSTYRELSEN_HOURS,
    ),
)

PROFILES: dict[Provider, ProviderProfile] = {profile.provider: profile for profile in CATALOGUE}
