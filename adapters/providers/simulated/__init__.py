"""SIMULATED base services of the eight data providers: the default for demos and load tests.

Nothing here talks to a real provider. These are a product feature, labelled as such
everywhere they appear: ``ssbtek`` uses them unless configured with a real adapter
(entry point ``simulated`` of group ``ssbtek.providers``, options in ``factory``).

Each simulated provider builds a raw, wire-shaped answer (plain dicts holding the
provider's own Swedish field names, as in the v10 contract: AF ``Sekretessmarkering``,
CSN ``ResultatKod``, Lefi ``skyddad``, Transportstyrelsen ``regnr``, a-kassor
``Utbetalningsdatum``, Migrationsverket ``beslutsTyp``, Skatteverket ``Taxeringsar`` ...),
and an adapter step reads it into a ``domain.provider_data`` record with ``cattrs``, just
as a real provider adapter would. An unreadable answer is a ``MalformedAnswerError``
whose message holds no personal data and none of the payload.

The rules of the simulation (all deterministic: SHA-256 of the subject's 12 digits and
the provider's name, never Python's salted ``hash()``):

- Protected identity: about 5 % of subjects (``simulates_protected_identity``). AF, CSN,
  Försäkringskassan, Pensionsmyndigheten and Skatteverket flag them in every answer,
  with or without other data; Migrationsverket, the a-kassor and Transportstyrelsen have
  no such flag and never do (``PROVIDERS_FLAGGING_PROTECTED_IDENTITY``).
- Which provider holds which subject (``simulates_data_for``); a provider that does not
  answers with an empty record (``is_empty``) for every period:

  ============================  =============================================================
  Arbetsförmedlingen            35 % of those born 1955-2008
  CSN                           30 % of those born 1965 or later, 3 % of the others
  Försäkringskassan             60 %
  Migrationsverket              85 % of samordningsnummer holders, 8 % of personnummer holders
  Pensionsmyndigheten           92 % of those born 1961 or earlier, 4 % of the others
  Skatteverket                  93 % of those born 2007 or earlier, 10 % of the others
  a-kassor                      25 % of those born 1955-2006
  Transportstyrelsen            45 % of those born 2007 or earlier
  ============================  =============================================================

- Restricted to the period: payments (CSN, FK, PM, a-kassor) whose payment date falls in
  it; AF registration and support decisions that overlap it; Migrationsverket permits
  decided by its end and still in force (not expired or revoked) at its start;
  Skatteverket taxation years decided up to its end (see ``skatteverket``).
  Transportstyrelsen answers with current holdings. A provider holding a subject can
  still have nothing for a period (no payment fell in it), so its record is empty too.
  Records span 1850-2199 (``SIMULATED_YEARS``): a period is cut to those years, and
  nobody born after them is known, so no date arithmetic leaves the calendar.
- Payments follow per-month (or per-term, per-quarter) draws seeded by the subject and
  the month, so a shorter period sees exactly the payments of a longer one that fall
  in it.
- AF's ``Akassetillhorighet`` and the a-kassor's ``SvarandeOrganisation`` agree.

Faults and latency come from a ``SimulationProfile`` (see ``profile`` and ``factory``).
"""

from __future__ import annotations

from adapters.providers.simulated.catalogue import (
    SIMULATIONS,
    garbled,
    read_payload,
    simulated_failure_payload,
    simulated_payload,
    simulated_record,
)
from adapters.providers.simulated.factory import (
    OPTIONS,
    build_profiles,
    build_simulated_base_services,
    option_problems,
    parse_latency,
)
from adapters.providers.simulated.profile import (
    DEMO_LATENCY,
    NO_LATENCY,
    SLA_LATENCY,
    Fault,
    FixedLatency,
    Latency,
    LogNormalLatency,
    NoLatency,
    SimulationProfile,
)
from adapters.providers.simulated.rules import (
    PROTECTED_IDENTITY_SHARE,
    PROVIDERS_FLAGGING_PROTECTED_IDENTITY,
    simulates_data_for,
    simulates_protected_identity,
)
from adapters.providers.simulated.service import SimulatedBaseService

__all__ = [
    "DEMO_LATENCY",
    "NO_LATENCY",
    "OPTIONS",
    "PROTECTED_IDENTITY_SHARE",
    "PROVIDERS_FLAGGING_PROTECTED_IDENTITY",
    "SIMULATIONS",
    "SLA_LATENCY",
    "Fault",
    "FixedLatency",
    "Latency",
    "LogNormalLatency",
    "NoLatency",
    "SimulatedBaseService",
    "SimulationProfile",
    "build_profiles",
    "build_simulated_base_services",
    "garbled",
    "option_problems",
    "parse_latency",
    "read_payload",
    "simulated_failure_payload",
    "simulated_payload",
    "simulated_record",
    "simulates_data_for",
    "simulates_protected_identity",
]
