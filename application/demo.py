"""``seed_demo``: the parties, agreement and caseworker a first query needs, made idempotently.

SKR, the operator and the data providers are recorded as founding parties (signatories of
the Överenskommelse); the demo municipality then goes through the whole connection
procedure of 004 § 9, accepted by each of them. Running it again finishes what is missing
and changes nothing else. Every organisation number here is public.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Final

from application.agreements import Agreements
from application.errors import ConflictError, NotFoundError, RuleViolationError
from application.parties import Parties
from application.party_views import PartyView
from domain.agreement.values import AgreementDocument
from domain.party.rules import local_date
from domain.party.values import CaseworkerState, OrderForm, PartyRole, PartyStatus
from domain.providers import Provider

DEMO_MUNICIPALITY: Final = ("212000-0142", "Demo kommun")
DEMO_CASEWORKER: Final = "HL000001"
SKR: Final = ("222000-0315", "Sveriges Kommuner och Regioner")
OPERATOR: Final = ("202100-5521", "Försäkringskassan")
PROVIDERS: Final[dict[Provider, tuple[str, str]]] = {
    Provider.ARBETSFORMEDLINGEN: ("202100-2114", "Arbetsförmedlingen"),
    Provider.CSN: ("202100-1819", "Centrala studiestödsnämnden"),
    Provider.MIGRATIONSVERKET: ("202100-2163", "Migrationsverket"),
    Provider.PENSIONSMYNDIGHETEN: ("202100-6149", "Pensionsmyndigheten"),
    Provider.SKATTEVERKET: ("202100-5448", "Skatteverket"),
    Provider.TRANSPORTSTYRELSEN: ("202100-6073", "Transportstyrelsen"),
}
"""Försäkringskassan is the operator and a provider (one party, two roles). Sveriges
a-kassor (the unemployment funds) is left out: its organisation number could not be
confirmed from a public source, and a made-up one might belong to someone else."""

DOCUMENT_VERSIONS: Final = (
    *((document, "1.0", dt.date(2021, 7, 1)) for document in AgreementDocument),
    (AgreementDocument.SERVICE_DESCRIPTION_AND_TERMS, "1.1", dt.date(2023, 1, 17)),
)
"""The versions in the seeds' revision histories (004 1.0 and 1.1; 001 1.0), 2021-07-01
taken for the documents whose own history is not in the seeds."""

SEED_ATTEMPTS: Final = 64
"""Each lost race means another process completed one of the seed's ~40 steps in between,
and each step completes once: so more attempts than steps always finish."""

ANNUAL_FEES: Final = {
    2015: Decimal("1.00"),
    2016: Decimal("1.00"),
    2017: Decimal("0.80"),
    2018: Decimal("0.60"),
}
"""SEK per inhabitant as SKR set them (000)."""


def seed_demo(parties: Parties, agreements: Agreements, at: dt.datetime) -> None:
    """Make the demo world exist; ``at`` dates the demo's signatures and consent.

    Several processes may seed one store at once (``ssbtek serve --workers``): a step that
    loses a race (``ConflictError``, or a rule that another process's step now breaks) is
    simply taken again from the fresh state, since every step checks first what exists.
    """
    for attempt in range(1, SEED_ATTEMPTS + 1):
        try:
            _seed(parties, agreements, local_date(at))
            return
        except (ConflictError, RuleViolationError):
            if attempt == SEED_ATTEMPTS:
                raise


def _seed(parties: Parties, agreements: Agreements, day: dt.date) -> None:
    _found(parties, *SKR, [PartyRole.SKR])
    _found(
        parties,
        *OPERATOR,
        [PartyRole.OPERATOR, PartyRole.DATA_PROVIDER],
        Provider.FORSAKRINGSKASSAN,
    )
    for provider, (number, name) in PROVIDERS.items():
        _found(parties, number, name, [PartyRole.DATA_PROVIDER], provider)
    _onboard_demo_municipality(parties, day)
    _seed_agreement(agreements)


def _existing(parties: Parties, organisation_number: str) -> PartyView | None:
    try:
        return parties.party(organisation_number)
    except NotFoundError:
        return None


def _found(
    parties: Parties,
    organisation_number: str,
    name: str,
    roles: list[PartyRole],
    provider: Provider | None = None,
) -> None:
    if _existing(parties, organisation_number) is None:
        parties.found(organisation_number, name, roles, provider)


def _onboard_demo_municipality(parties: Parties, day: dt.date) -> None:
    number, name = DEMO_MUNICIPALITY
    onboard_municipality(parties, number, name, day)


def onboard_municipality(parties: Parties, number: str, name: str, day: dt.date) -> None:
    """Take a municipality as far as it has not gone yet, to connected with the demo
    caseworker (``DEMO_CASEWORKER``, assurance signed); never undo what someone did to it
    since (a withdrawal, a withdrawn consent, a revoked or removed caseworker). Development
    and benchmarks only (the demo municipality; the benchmark's several organisations)."""
    party = _existing(parties, number) or parties.apply(number, name, PartyRole.MUNICIPALITY)
    for acceptor in party.pending_acceptances:
        party = parties.accept(number, acceptor)
    if party.status is PartyStatus.QUALIFIED:
        party = parties.commission_operator(number)
    if party.status is PartyStatus.COMMISSIONED:
        form = OrderForm(
            signed_on=day,
            signed_by_authorised_representative=True,
            power_of_attorney_attached=True,
            proof_of_authority_attached=True,
        )
        party = parties.submit_order_form(number, form)
    if party.status is PartyStatus.INTEGRATION_REQUESTED:
        party = parties.approve_integration(number)
    if party.status is PartyStatus.INTEGRATION_APPROVED:
        if not party.vehicle_register_consent:
            parties.record_vehicle_register_consent(number, day)
        party = parties.connect(number)
    if party.status is not PartyStatus.CONNECTED:
        return
    try:
        caseworker = parties.caseworker(number, DEMO_CASEWORKER)
    except NotFoundError:
        caseworker = parties.register_caseworker(number, DEMO_CASEWORKER)
    if caseworker.state is CaseworkerState.REGISTERED:
        parties.sign_assurance(number, DEMO_CASEWORKER, day)


def _seed_agreement(agreements: Agreements) -> None:
    announced = {(v.document, v.version) for v in agreements.versions()}
    for document, version, effective_from in DOCUMENT_VERSIONS:
        if (document, version) not in announced:
            agreements.announce_version(document, version, effective_from)
    fees = {fee.year for fee in agreements.annual_fees()}
    for year, per_inhabitant in ANNUAL_FEES.items():
        if year not in fees:
            agreements.set_annual_fee(year, per_inhabitant)
