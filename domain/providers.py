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
    """What a provider returns, under which legal basis, and when its base service answers.

    ``legal_basis``: every statute 004 Bilaga 2 gives for the provider's data, in its order
    and words, so a caseworker's ``lagtext`` can be checked against it."""

    provider: Provider
    name: str
    data_kinds: tuple[str, ...]
    legal_basis: tuple[str, ...]
    opening_hours: OpeningHours


_UPPGIFTSSKYLDIGHET = (
    "förordningen (2008:975) om uppgiftsskyldighet i vissa fall enligt socialtjänstlagen"
)
_GDPR = "(Europaparlamentets och rådets förordning (EU) 2016/679, allmän dataskyddsförordning)"

CATALOGUE: tuple[ProviderProfile, ...] = (
    ProviderProfile(
        Provider.ARBETSFORMEDLINGEN,
        "Arbetsförmedlingen",
        ("registration as job seeker", "activity and establishment support"),
        (
            "16 § förordningen (2002:623) om behandling av personuppgifter i den "
            "arbetsmarknadspolitiska verksamheten",
            "11 kap. 11 a § socialtjänstlagen (2001:453)",
            f"5 § {_UPPGIFTSSKYLDIGHET}",
            "11 c § lagen (2010:197) om etableringsinsatser för vissa nyanlända invandrare",
        ),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.CSN,
        "Centrala studiestödsnämnden",
        ("student grants and loans paid",),
        (
            "13 § studiestödsdataförordningen (2009:321)",
            f"2 § {_UPPGIFTSSKYLDIGHET} (2001:453)",
            "11 kap. 11 § socialtjänstlagen (2001:453)",
        ),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.FORSAKRINGSKASSAN,
        "Försäkringskassan",
        ("benefits and allowances: amounts and payment dates",),
        (
            "114 kap. 8 § punkt 4 socialförsäkringsbalken (2010:110)",
            "114 kap. 24 § socialförsäkringsbalken (2010:110)",
            f"3 § {_UPPGIFTSSKYLDIGHET} (2001:453)",
            "3 § förordningen (1980:995) om skyldighet för Försäkringskassan och "
            "Pensionsmyndigheten att lämna uppgifter till andra myndigheter",
            "11 kap. 11 § socialtjänstlagen (2001:453)",
        ),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.MIGRATIONSVERKET,
        "Migrationsverket",
        ("residence and work permits: kind, validity, decision and revocation dates",),
        (
            "6 kap. 5 § offentlighets- och sekretesslagen (2009:400)",
            "11, 12 och 13 §§ utlänningsdatalagen (2016:27)",
            f"artikel 6.1 e {_GDPR}",
        ),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.PENSIONSMYNDIGHETEN,
        "Pensionsmyndigheten",
        ("pensions and pension-related benefits",),
        (
            "114 kap. 8 § punkt 4 socialförsäkringsbalken (2010:110)",
            "114 kap. 24 § socialförsäkringsbalken (2010:110)",
            f"3 § {_UPPGIFTSSKYLDIGHET} (2001:453)",
            "11 kap. 11 § socialtjänstlagen (2001:453)",
        ),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.SKATTEVERKET,
        "Skatteverket",
        ("taxed income and tax assessment",),
        (
            "2 kap. 8 a § lagen (2001:181) om behandling av Skatteverkets beskattningsverksamhet",
            f"3 § {_UPPGIFTSSKYLDIGHET} (2001:453)",
            "11 kap. 11 b § socialtjänstlagen (2001:453)",
        ),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.UNEMPLOYMENT_FUNDS,
        "Sveriges a-kassor",
        ("unemployment insurance payments",),
        (
            "11 kap. 11 § socialtjänstlagen (2001:453)",
            f"4 § {_UPPGIFTSSKYLDIGHET} (2001:453)",
            "lagen (1997:238) om arbetslöshetsförsäkring",
            "lagen (1997:239) om arbetslöshetskassor",
            f"artikel 6.1 c {_GDPR}",
        ),
        ALWAYS_OPEN,
    ),
    ProviderProfile(
        Provider.TRANSPORTSTYRELSEN,
        "Transportstyrelsen",
        ("vehicles owned: registration number, make, model year, type, trade name",),
        (
            "3 kap. 4 § vägtrafikdatalagen (2019:369)",
            "4 kap. 13-14 §§ vägtrafikdataförordningen (2019:382)",
        ),
        TRANSPORTSTYRELSEN_HOURS,
    ),
)

PROFILES: dict[Provider, ProviderProfile] = {profile.provider: profile for profile in CATALOGUE}
