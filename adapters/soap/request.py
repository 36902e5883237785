"""A v10 request -> the saga's ``QueryCommand``: mapping, not judging (ADR 19).

The rules live in ``application.validation``; this module only reads the schema-valid
elements into primitives, maps the free-text ``syfte`` and ``lagtext`` onto the saga's
purpose and legal-basis codes (an unmapped text becomes a code the validation refuses),
and remembers how to name the v10 element behind each field a violation names.
"""

from __future__ import annotations

import re
from typing import Final

import attrs
from lxml import etree

from adapters.soap.contract import EXT, SSBT, ContractViolation, SoapRequest, named_organisation
from application.commands import PeriodCommand, ProviderSelectionCommand, QueryCommand
from domain.providers import Provider
from domain.query.values import EntryPoint, LegalBasis, Purpose

BLOCKS: Final[tuple[tuple[str, tuple[Provider, ...]], ...]] = (
    ("AF", (Provider.ARBETSFORMEDLINGEN,)),
    ("CSN", (Provider.CSN,)),
    ("FK", (Provider.FORSAKRINGSKASSAN, Provider.PENSIONSMYNDIGHETEN)),
    ("SKV", (Provider.SKATTEVERKET,)),
    ("SO", (Provider.UNEMPLOYMENT_FUNDS,)),
    ("TNS", (Provider.TRANSPORTSTYRELSEN,)),
    ("MIV", (Provider.MIGRATIONSVERKET,)),
)
"""The v10 blocks in contract order, and the providers behind each: v10 reaches
Pensionsmyndigheten through Försäkringskassan's Lefi, so its FK block covers both."""

UNRECOGNISED: Final = "UNRECOGNISED_TEXT"
"""Given to the validation for a ``syfte`` or ``lagtext`` no rule maps: not a code."""

_GENERAL: Final = "generellaFrageparametrar"
_FIELD_NAMES: Final = {
    "asking_organisation.organisation_number": f"{_GENERAL}.ingivare.organisationsnummer",
    "asking_organisation.name": f"{_GENERAL}.ingivare.namn",
    "caseworker_id": f"{_GENERAL}.ingivare.handlaggare",
    "case_id": f"{_GENERAL}.arendeidentitet",
    "purpose": f"{_GENERAL}.syfte",
    "legal_basis": f"{_GENERAL}.lagtext",
    "period": f"{_GENERAL}.tidsperiod",
    "period.start": f"{_GENERAL}.tidsperiod.fromDatum",
    "period.end": f"{_GENERAL}.tidsperiod.tomDatum",
    "subjects": f"{_GENERAL}.personidentitet and Header.ytterligarePersoner",
    "client_request_id": "korrelationsid",
}


@attrs.frozen(repr=False)
class V10Query:
    """What the answer needs besides the saga's answer: PERSONAL DATA (echoed, never kept)."""

    command: QueryCommand
    blocks: tuple[str, ...]
    """The v10 blocks the query included, in contract order."""
    block_of_selection: tuple[str, ...]
    """For ``providers[i]``: the v10 block it came from."""
    purpose_text: str
    legal_basis_text: str
    correlation_id: str | None
    asked_at: str | None
    echo: etree._Element | None
    """The query as it came, when ``fraganSkallInkluderasISvaret`` is true."""

    def __repr__(self) -> str:
        return "V10Query(<personal data redacted>)"

    def field_name(self, field: str) -> str:
        """The v10 element behind a field the validation names (``subjects[1]`` ...)."""
        if field in _FIELD_NAMES:
            return _FIELD_NAMES[field]
        subject = re.fullmatch(r"subjects\[(\d+)\]", field)
        if subject:
            index = int(subject.group(1))
            if index == 0:
                return f"{_GENERAL}.personidentitet"
            return f"Header.ytterligarePersoner.personidentitet[{index - 1}]"
        selection = re.fullmatch(r"providers\[(\d+)\]\.(\w+)(.*)", field)
        if selection and int(selection.group(1)) < len(self.block_of_selection):
            block = self.block_of_selection[int(selection.group(1))]
            rest = selection.group(3).replace(".start", ".fromDatum").replace(".end", ".tomDatum")
            leaf = "tidsperiod" if selection.group(2) == "period" else "inkludera"
            return f"specifikaFrageparametrar.{block}.{leaf}{rest}"
        return field


def _q(name: str) -> str:
    return f"{{{SSBT}}}{name}"


def _text(parent: etree._Element, *path: str) -> str:
    node = parent.find("/".join(_q(step) for step in path))
    return (node.text or "").strip() if node is not None else ""


def _date(text: str) -> tuple[int, int, int]:
    """``xsd:date`` (``YYYY-MM-DD``, a time zone allowed) -> parts; the schema checked it."""
    match = re.match(r"(-?\d{4,})-(\d{2})-(\d{2})", text)
    if match is None:
        return (0, 0, 0)
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def _period(element: etree._Element | None) -> PeriodCommand | None:
    if element is None:
        return None
    return PeriodCommand(_date(_text(element, "fromDatum")), _date(_text(element, "tomDatum")))


def _words(text: str) -> str:
    return " ".join(text.lower().split())


def purpose_code(syfte: str) -> str:
    """The saga's purpose for v10's free-text ``syfte`` (the rules of ADR 19)."""
    text = _words(syfte)
    if syfte.strip() in Purpose.__members__:
        return syfte.strip()
    if any(word in text for word in ("förbered", "forbered", "inför ansökan", "infor ansokan")):
        return Purpose.APPLICATION_PREPARATION.name
    assistance = ("bistånd", "bistand", "försörjningsstöd", "forsorjningsstod")
    if "ekonomisk" in text and any(word in text for word in assistance):
        return Purpose.FINANCIAL_ASSISTANCE_CASE.name
    return UNRECOGNISED


def legal_basis_code(lagtext: str) -> str:
    """The saga's legal basis for v10's free-text ``lagtext`` (the rules of ADR 19)."""
    text = _words(lagtext)
    if lagtext.strip() in LegalBasis.__members__:
        return lagtext.strip()
    if re.search(r"11 kap\.? 11", text) and ("socialtjänstlag" in text or "sol" in text.split()):
        return LegalBasis.SOL_11_KAP_11.name
    if "2008:975" in text:
        return LegalBasis.FORORDNING_2008_975.name
    return UNRECOGNISED


def _included(block: etree._Element | None) -> bool:
    return block is not None and block.get("inkludera", "").strip() in ("true", "1")


def v10_query(request: SoapRequest, *, authenticated_organisation: str | None) -> V10Query:
    general = request.body.find(_q("generellaFrageparametrar"))
    specific = request.body.find(_q("specifikaFrageparametrar"))
    assert general is not None  # the schema requires both
    assert specific is not None
    period = _period(general.find(_q("tidsperiod")))
    purpose_text, legal_basis_text = _text(general, "syfte"), _text(general, "lagtext")
    selections: list[ProviderSelectionCommand] = []
    block_of_selection: list[str] = []
    blocks: list[str] = []
    for tag, providers in BLOCKS:
        block = specific.find(_q(tag))
        if not _included(block):
            continue
        assert block is not None
        blocks.append(tag)
        own = _period(block.find(_q("tidsperiod")))
        for provider in providers:
            selections.append(ProviderSelectionCommand(provider.name, own))
            block_of_selection.append(tag)
    extra = [
        (node.text or "").strip()
        for header in request.headers
        if header.tag == f"{{{EXT}}}ytterligarePersoner"
        for node in header.iter(f"{{{EXT}}}personidentitet")
    ]
    if not selections:
        raise ContractViolation(
            "NO_BASE_SERVICE",
            ['specifikaFrageparametrar must include at least one base service (inkludera="true")'],
            fields=("specifikaFrageparametrar",),
        ).of_query(named_organisation(request.body))
    command = QueryCommand(
        client_request_id="",
        organisation_number=_text(general, "ingivare", "organisationsnummer"),
        organisation_name=_text(general, "ingivare", "namn"),
        caseworker_id=_text(general, "ingivare", "handlaggare"),
        case_id=_text(general, "arendeidentitet"),
        purpose=purpose_code(purpose_text),
        legal_basis=legal_basis_code(legal_basis_text),
        period=period,
        subjects=(_text(general, "personidentitet"), *extra),
        providers=tuple(selections),
        authenticated_organisation=authenticated_organisation,
        entry_point=EntryPoint.SOAP_V10,
    )
    echo_wanted = _text(general, "fraganSkallInkluderasISvaret") in ("true", "1")
    correlation = general.find(_q("korrelationsid"))
    asked_at = general.find(_q("frageTidpunkt"))
    return V10Query(
        command=command,
        blocks=tuple(blocks),
        block_of_selection=tuple(block_of_selection),
        purpose_text=purpose_text,
        legal_basis_text=legal_basis_text,
        correlation_id=None if correlation is None else (correlation.text or ""),
        asked_at=None if asked_at is None else (asked_at.text or "").strip(),
        echo=request.body if echo_wanted else None,
    )
