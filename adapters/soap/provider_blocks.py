"""Each provider's record in that provider's v10 shape: PERSONAL DATA, rendered for one answer.

AF, SO, TNS and MIV answers are XML in their own namespaces; Skatteverket's is an XML
document carried as text; CSN's an XML document and FK's (Försäkringskassan and
Pensionsmyndigheten, both through Lefi) a JSON document, each base64-encoded as v10 says.
The shapes follow the project's rendering of each provider's schema in ``contract/``.
"""

from __future__ import annotations

import base64
import datetime as dt
import inspect
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, Final

from lxml import etree

from adapters.soap.contract import AF, FORDON, SO, SSBT, TNS
from adapters.soap.request import BLOCKS, V10Query
from domain import provider_data
from domain.provider_data import (
    ArbetsformedlingenRecord,
    CsnRecord,
    ForsakringskassanRecord,
    MigrationsverketRecord,
    PensionsmyndighetenRecord,
    SkatteverketRecord,
    TransportstyrelsenRecord,
    UnemploymentFundsRecord,
)
from domain.providers import PROFILES, Provider
from domain.query.answer import ProviderPart
from domain.query.values import OutcomeKind

SKV_DOCUMENT: Final = (
    "http://xmls.skatteverket.se/se/skatteverket/zg/instans/standardiseradInformation/1.0"
)
CSN_DOCUMENT: Final = "http://schema.csn.se/v4.0/kommunfraga"
LEFI_CODES: Final = {Provider.FORSAKRINGSKASSAN: "FK", Provider.PENSIONSMYNDIGHETEN: "PM"}


def el(parent: etree._Element, namespace: str | None, name: str, text: object = None) -> Any:
    node = etree.SubElement(parent, f"{{{namespace}}}{name}" if namespace else name)
    if text is not None:
        node.text = _text(text)
    return node


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _period_of(part: ProviderPart, asked: V10Query) -> tuple[str, str]:
    period = asked.command.period
    own = next(
        (s.period for s in asked.command.providers if s.provider == part.provider.name), None
    )
    chosen = own or period
    if chosen is None:  # the validation refuses a query without a period
        return "", ""
    return _iso(chosen.start), _iso(chosen.end)


def _iso(parts: tuple[int, int, int]) -> str:
    year, month, day = parts
    return f"{year:04d}-{month:02d}-{day:02d}"


def _fields(
    parent: etree._Element,
    namespace: str | None,
    pairs: Iterable[tuple[str, object]],
    *,
    optional: bool = False,
) -> None:
    """One child element per ``(name, value)``, in order; ``optional``: ``None`` is left out."""
    for name, value in pairs:
        if value is not None or not optional:
            el(parent, namespace, name, value)


_AF_QUESTION: Final = (
    "OrganisationsnummerForIngivare",
    "NamnPaIngivare",
    "KontonamnForHandlaggare",
    "Referensnummer",
    "From",
    "Tom",
    "SyfteMedFraga",
    "LagParagraf",
    "IdentitetsbeteckningFysiskPerson",
)
_SO_QUESTION: Final = (
    "OrganisationsnummerIngivare",
    "NamnIngivare",
    "KontonamnHandlaggare",
    "Referensnummer",
    "From",
    "Tom",
    "Syfte",
    "Paragraf",
    "IdentificationNumber",
)


def _question(
    parent: etree._Element,
    namespace: str,
    names: tuple[str, ...],
    part: ProviderPart,
    asked: V10Query,
) -> None:
    """The question as AF's and SO's v10 answers repeat it: the same nine facts, in the same
    order, under each provider's own element names."""
    command = asked.command
    start, end = _period_of(part, asked)
    values = (
        command.organisation_number,
        command.organisation_name,
        command.caseworker_id,
        command.case_id,
        start,
        end,
        asked.purpose_text,
        asked.legal_basis_text,
        part.subject.digits,
    )
    _fields(parent, namespace, zip(names, values, strict=True))


def arbetsformedlingen(data: etree._Element, part: ProviderPart, asked: V10Query) -> None:
    record = part.record
    assert isinstance(record, ArbetsformedlingenRecord)
    command = asked.command
    _question(el(data, AF, "Fraga"), AF, _AF_QUESTION, part, asked)
    answer = el(data, AF, "Svar")
    el(answer, AF, "Schemaversion", "4.0")
    el(answer, AF, "Referensnummer", command.case_id)
    el(answer, AF, "LagParagraf", asked.legal_basis_text)
    el(answer, AF, "IdentitetsbeteckningFysiskPerson", part.subject.digits)
    el(answer, AF, "Sekretessmarkering", record.protected_identity)
    if not record.is_empty:
        info = el(answer, AF, "ArbetssokandeInfo")
        el(info, AF, "Arbetssokande", record.registered_job_seeker)
        _fields(
            info,
            AF,
            (
                ("ArbetssokandeSKAT", record.job_seeker_category),
                ("ArbetssokandeRegistrerad", record.registered_on),
                ("ArbetssokandeOmfattning", record.extent_percent),
                ("ArbetssokandeAvaktualiserad", record.deregistered_on),
            ),
            optional=True,
        )
        report = el(info, AF, "AktivetetsRapportDatum")
        reported = record.latest_activity_report_on
        el(report, AF, "AktivitetsRapportMeddelande", "" if reported else "Ingen rapport")
        if reported is not None:
            el(report, AF, "SenasteAktivitetsRapportDatum", reported)
    if record.support_decisions:
        decisions = el(el(answer, AF, "BeslutInfo"), AF, "EkonomiskaBeslut")
        for decision in record.support_decisions:
            _fields(
                el(decisions, AF, "Beslut"),
                AF,
                (
                    ("ErsattningTyp", decision.benefit_type),
                    ("Omfattning", decision.extent_percent),
                    ("BeslutFrom", decision.valid_from),
                    ("BeslutTom", decision.valid_to),
                ),
            )
    if record.unemployment_fund is not None:
        el(answer, AF, "Akassetillhorighet", record.unemployment_fund)
    found = part.kind is OutcomeKind.ANSWERED
    el(answer, AF, "StatusSokandeinformationKod", 0 if found else 1)
    el(
        answer,
        AF,
        "StatusSokandeinformationKodText",
        "Frågan har behandlats normalt och ett giltigt svar har returnerats."
        if found
        else "Personen finns inte registrerad hos Arbetsförmedlingen.",
    )


def csn(data: etree._Element, part: ProviderPart, asked: V10Query) -> None:
    record = part.record
    assert isinstance(record, CsnRecord)
    root = etree.Element(
        f"{{{CSN_DOCUMENT}}}CSNSvar", schemaVersion="4.0", nsmap={None: CSN_DOCUMENT}
    )
    result = el(el(root, CSN_DOCUMENT, "GemensamtSvarEkbistand"), CSN_DOCUMENT, "Resultat")
    el(result, CSN_DOCUMENT, "ResultatKod", 0)
    el(result, CSN_DOCUMENT, "ResultatText", "Allt OK, inget att rapportera")
    person = el(el(root, CSN_DOCUMENT, "Personer"), CSN_DOCUMENT, "Person")
    person.set("personnummer", part.subject.digits[2:])
    person.set("sekel", part.subject.digits[:2])
    person.set("sekretess", "J " if record.protected_identity else "  ")
    for payment in record.payments:
        _fields(
            el(person, CSN_DOCUMENT, "Utbetalning"),
            CSN_DOCUMENT,
            (
                ("stodform", payment.support_form),
                ("klartext", payment.description),
                ("utbetdatum", payment.payment_date),
                ("utbetstatus", payment.status),
                ("fromDatum", payment.covers_from),
                ("tomDatum", payment.covers_to),
                ("bidrag", payment.grant_amount),
                ("lan", payment.loan_amount),
            ),
        )
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    el(data, SSBT, "svar", base64.b64encode(document).decode())


def _amount(value: Decimal) -> str:
    return str(value)


def _lefi_entry(part: ProviderPart) -> dict[str, Any]:
    code = LEFI_CODES[part.provider]
    state = {"kod": "OK", "beskrivning": "Tillgänglig"}
    if part.kind is not OutcomeKind.ANSWERED and part.kind is not OutcomeKind.NO_DATA:
        message = part.error.message if part.error else part.kind.value
        state = {"kod": "FELANDE", "beskrivning": message}
    return {"utlamnare": {"kod": code, "namn": PROFILES[part.provider].name}, "tillstand": state}


def _lefi_payments(part: ProviderPart) -> list[dict[str, Any]]:
    record = part.record
    code = LEFI_CODES[part.provider]
    if isinstance(record, ForsakringskassanRecord):
        return [
            {
                "utlamnare": code,
                "formansfamilj": {"id": p.benefit_code, "beskrivning": p.benefit_name},
                "datum": p.payment_date.isoformat(),
                "period": {"fran": p.covers_from.isoformat(), "till": p.covers_to.isoformat()},
                "bruttobelopp": _amount(p.gross_amount),
                "skattebelopp": _amount(p.tax_amount),
                "nettobelopp": _amount(p.net_amount),
            }
            for p in record.payments
        ]
    if isinstance(record, PensionsmyndighetenRecord):
        return [
            {
                "utlamnare": code,
                "utbetalningsdatum": p.payment_date.isoformat(),
                "utbetalningsperiod": {
                    "from": p.covers_from.isoformat(),
                    "tom": p.covers_to.isoformat(),
                },
                "bruttobelopp": _amount(p.gross_amount),
                "nettobelopp": _amount(p.net_amount),
                "utbetalningsrader": [
                    {"kod": b.code, "beskrivning": b.description, "belopp": _amount(b.amount)}
                    for b in p.benefits
                ],
                "avdrag": [
                    {"kod": d.code, "beskrivning": d.description, "belopp": _amount(d.amount)}
                    for d in p.deductions
                ],
            }
            for p in record.payments
        ]
    return []


def lefi(data: etree._Element, parts: Sequence[ProviderPart]) -> None:
    """FK's block: one Lefi answer listing both providers behind it and their states."""
    protected = any(part.flags_protected_identity for part in parts)
    known = any(part.kind is OutcomeKind.ANSWERED for part in parts)
    people = (
        [{"personnummer": parts[0].subject.digits, "skyddad": protected}]
        if known or protected
        else []
    )
    document = {
        "utlamnare": [_lefi_entry(part) for part in parts],
        "formansinformation": {"generellPersoninformation": people},
        "utbetalningar": [row for part in parts for row in _lefi_payments(part)],
    }
    encoded = json.dumps(document, ensure_ascii=False).encode()
    el(data, SSBT, "lefiJsonSvar", base64.b64encode(encoded).decode())


def skatteverket(data: etree._Element, part: ProviderPart, asked: V10Query) -> None:
    record = part.record
    assert isinstance(record, SkatteverketRecord)
    ns = SKV_DOCUMENT
    root = etree.Element(f"{{{ns}}}SvarBeskattningsuppgifterEnligtSFS2008-975", nsmap={None: ns})
    person = el(el(root, ns, "PersonuppgiftLista"), ns, "Personuppgift")
    el(person, ns, "IdentitetsbeteckningFysiskPerson", part.subject.digits)
    el(person, ns, "StatusPersonuppgiftKod", 0 if part.kind is OutcomeKind.ANSWERED else 999)
    el(person, ns, "Sekretessmarkering", "J" if record.protected_identity else "N")
    for income in record.earned_income:
        _fields(
            el(person, ns, "Inkomstuppgift"),
            ns,
            (
                ("Taxeringsar", income.taxation_year),
                ("SammanraknadForvarvsinkomst", income.earned_income),
                ("InkomstAvNaringsverksamhet", income.business_income),
                ("SlutligSkatt", income.final_tax),
            ),
        )
    for capital in record.capital_income:
        _fields(
            el(person, ns, "Kapitaluppgift"),
            ns,
            (
                ("Taxeringsar", capital.taxation_year),
                ("SummaIntakterPaKapital", capital.total_capital_income),
                ("OverskottPaKapital", capital.capital_surplus),
                ("UnderskottPaKapital", capital.capital_deficit),
            ),
        )
    el(data, None, "svar", etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode())


def unemployment_funds(data: etree._Element, part: ProviderPart, asked: V10Query) -> None:
    record = part.record
    assert isinstance(record, UnemploymentFundsRecord)
    _question(data, SO, _SO_QUESTION, part, asked)
    listing = el(data, SO, "ArbetsloshetsersattningLista")
    funds: dict[str, list[Any]] = {}
    for payment in record.payments:
        funds.setdefault(payment.fund, []).append(payment)
    for fund, payments in funds.items():
        entry = el(listing, SO, "Arbetsloshetsersattning")
        el(entry, SO, "SvarandeOrganisation", fund)
        el(entry, SO, "StatusSvarandeOrganisation", "OK")
        for payment in payments:
            _fields(
                el(entry, SO, "Utbetalningar"),
                SO,
                (
                    ("Utbetalningsdatum", payment.payment_date),
                    ("NettoEfterSkatt", payment.net_after_tax),
                    ("NettoEfterAvdrag", payment.net_after_deductions),
                    ("Ersattningsdagar", payment.compensation_days),
                    ("AvserFrom", payment.covers_from),
                    ("AvserTom", payment.covers_to),
                ),
            )


def transportstyrelsen(data: etree._Element, part: ProviderPart, asked: V10Query) -> None:
    record = part.record
    assert isinstance(record, TransportstyrelsenRecord)
    el(data, TNS, "resultat", "OK")
    holdings = el(data, TNS, "fordonsinnehav")
    for vehicle in record.vehicles:
        _fields(
            el(holdings, FORDON, "fordon"),
            FORDON,
            (
                ("regnr", vehicle.registration_number),
                ("fabrikat", vehicle.make),
                ("fordonsar", vehicle.model_year),
                ("fordonsslag", vehicle.vehicle_type),
                ("handelsbeteckning", vehicle.trade_name),
            ),
        )


def migrationsverket(data: etree._Element, part: ProviderPart, asked: V10Query) -> None:
    record = part.record
    assert isinstance(record, MigrationsverketRecord)
    response = el(data, None, "response")
    if asked.correlation_id:
        el(response, None, "korrelationsid", asked.correlation_id)
    el(response, None, "correlationid", asked.correlation_id or "")
    if record.home_country is not None:
        el(response, None, "hemland", record.home_country)
    if record.entered_on is not None:
        el(response, None, "inresedatum", record.entered_on)
    el(response, None, "personnummer", part.subject.digits)
    collection = el(response, None, "svarCollection")
    for permit in record.permits:
        row = el(collection, None, "svar")
        if permit.revoked_on is not None:
            el(row, None, "anledning", "AVSLUTAD")
            el(row, None, "anledningNamn", f"Återkallat {permit.revoked_on.isoformat()}")
        if permit.applied_on is not None:
            el(row, None, "ansokningsdatum", permit.applied_on)
        el(row, None, "arendeTyp", permit.case_type)
        el(row, None, "arendeTypNamn", permit.case_type_name)
        el(row, None, "beslutsKod", permit.decision_code)
        el(row, None, "beslutsKodNamn", permit.decision_code_name)
        el(row, None, "beslutsTyp", permit.kind)
        el(row, None, "beslutsTypNamn", permit.kind_name)
        el(row, None, "beslutsdatum", permit.decided_on)
        if permit.valid_from is not None:
            el(row, None, "fromDatum", permit.valid_from)
        el(row, None, "giltighetstid", permit.validity)
        if permit.valid_to is not None:
            el(row, None, "tomDatum", permit.valid_to)


Renderer = Callable[[etree._Element, ProviderPart, V10Query], None]
RENDERERS: Final[dict[type, Renderer]] = {
    ArbetsformedlingenRecord: arbetsformedlingen,
    CsnRecord: csn,
    SkatteverketRecord: skatteverket,
    UnemploymentFundsRecord: unemployment_funds,
    TransportstyrelsenRecord: transportstyrelsen,
    MigrationsverketRecord: migrationsverket,
}
"""Each record type's renderer; FK's block renders the Lefi records together (``lefi``)."""
LEFI_RECORDS: Final[frozenset[type]] = frozenset(
    {ForsakringskassanRecord, PensionsmyndighetenRecord}
)


class MissingRenderer(RuntimeError):
    """A provider or record type the service can return that the v10 answer cannot carry."""


def record_types() -> frozenset[type]:
    """Every provider record type the domain defines (``domain.provider_data``)."""
    return frozenset(
        member
        for name, member in inspect.getmembers(provider_data, inspect.isclass)
        if name.endswith("Record") and member.__module__ == provider_data.__name__
    )


def check_complete(
    kinds: frozenset[type] | None = None,
    providers: Sequence[Provider] = tuple(Provider),
    blocks: Sequence[tuple[str, Sequence[Provider]]] = BLOCKS,
) -> None:
    """At start, before the endpoint serves (ADR 19, ADR 23): every provider has a v10 block
    and every record type a renderer. Else the endpoint does not start: an answer it could
    not render would otherwise fail only after the trail had recorded it ``Delivered``."""
    in_blocks = {provider for _, members in blocks for provider in members}
    missing = [f"provider {p.name} has no v10 block" for p in providers if p not in in_blocks]
    rendered = set(RENDERERS) | LEFI_RECORDS
    kinds = record_types() if kinds is None else kinds
    missing += [
        f"record type {kind.__name__} has no v10 renderer"
        for kind in sorted(kinds, key=lambda kind: kind.__name__)
        if kind not in rendered
    ]
    if missing:
        raise MissingRenderer("; ".join(missing))


def render(data: etree._Element, part: ProviderPart, asked: V10Query) -> None:
    """A provider's ``data`` element, by its record's type (checked complete at start)."""
    RENDERERS[type(part.record)](data, part, asked)
