"""The saga's answer -> the v10 response envelope, built to the project's schema.

The SOAP body holds the first subject's answer exactly as v10 has it: one block per
included base service, each with ``data`` in that provider's shape or ``error`` with
``kalla``, ``felkod`` and ``felmeddelande``. The extension headers (ADR 19) carry the
answers about further subjects and the protected-identity notices; a v10 client that
does not know them ignores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lxml import etree

from adapters.soap import provider_blocks
from adapters.soap.contract import AF, EXT, FORDON, SO, SOAP_ENV, SSBT, TNS
from adapters.soap.provider_blocks import el
from adapters.soap.request import BLOCKS, V10Query
from application.queries import ProviderStatus
from domain.providers import Provider
from domain.query.answer import CompiledAnswer, ProviderPart
from domain.query.values import ErrorSource, OutcomeKind

PROTECTED_IDENTITY_TEXT: Final = (
    "Särskild sekretessmarkering: personen har skyddad identitet (003 § 1.3). "
    "Hantera varje del av svaret med särskild försiktighet."
)
_BLOCK_OF: Final = {provider: tag for tag, providers in BLOCKS for provider in providers}
_STANDARD_MESSAGES: Final = {
    OutcomeKind.CLOSED: "Bastjänsten har stängt: den svarar bara inom sina öppettider.",
    OutcomeKind.NOT_ENTITLED: "Kommunen har inte rätt att ta del av uppgifterna från bastjänsten.",
}


def envelope(body: etree._Element, headers: Sequence[etree._Element] = ()) -> etree._Element:
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "ssbt": SSBT})
    if headers:
        header = el(root, SOAP_ENV, "Header")
        header.extend(headers)
    el(root, SOAP_ENV, "Body").append(body)
    return root


def _error(parent: etree._Element, part: ProviderPart) -> None:
    error = el(parent, SSBT, "error")
    if part.error is not None:
        el(error, SSBT, "kalla", part.error.source.value)
        el(error, SSBT, "felkod", part.error.code)
        el(error, SSBT, "felmeddelande", part.error.message or part.error.code)
    else:
        el(error, SSBT, "kalla", ErrorSource.SSBT.value)
        el(error, SSBT, "felkod", part.kind.value)
        el(error, SSBT, "felmeddelande", _STANDARD_MESSAGES.get(part.kind, part.kind.value))


def _has_data(part: ProviderPart) -> bool:
    return part.kind in (OutcomeKind.ANSWERED, OutcomeKind.NO_DATA) and part.record is not None


def svarsdata(
    parent: etree._Element, tags: Sequence[str], parts: Sequence[ProviderPart], asked: V10Query
) -> None:
    data = el(parent, SSBT, "svarsdata")
    by_block: dict[str, list[ProviderPart]] = {}
    for part in parts:
        by_block.setdefault(_BLOCK_OF[part.provider], []).append(part)
    for tag in tags:
        block_parts = by_block.get(tag, [])
        if not block_parts:
            continue
        block = el(data, SSBT, tag)
        with_data = [part for part in block_parts if _has_data(part)]
        if not with_data:
            _error(block, block_parts[0])
        elif tag == "FK":
            provider_blocks.lefi(el(block, SSBT, "data"), block_parts)
        else:
            provider_blocks.render(el(block, SSBT, "data"), with_data[0], asked)


def query_response(answer: CompiledAnswer, query: V10Query) -> etree._Element:
    response = etree.Element(
        f"{{{SSBT}}}hamtaBastjanstInformationResponse",
        nsmap={"ssbt": SSBT, "af": AF, "so": SO, "tns": TNS, "fordon": FORDON},
    )
    if query.echo is not None:
        fraga = el(response, SSBT, "fraga")
        for child in query.echo:
            fraga.append(_copy(child))
    if query.asked_at is not None:
        el(response, SSBT, "frageTidpunkt", query.asked_at)
    if query.correlation_id is not None:
        el(response, SSBT, "korrelationsid", query.correlation_id)
    svarsdata(response, query.blocks, answer.parts_for(0), query)
    return envelope(response, _extension_headers(answer, query))


def _copy(element: etree._Element) -> etree._Element:
    copied: etree._Element = etree.fromstring(etree.tostring(element))
    return copied


def _extension_headers(answer: CompiledAnswer, query: V10Query) -> list[etree._Element]:
    headers: list[etree._Element] = []
    if len(answer.subjects) > 1:
        more = etree.Element(f"{{{EXT}}}ytterligareSvar", nsmap={"ext": EXT})
        for index in range(1, len(answer.subjects)):
            person = el(more, EXT, "personSvar")
            el(person, EXT, "personidentitet", answer.subjects[index].digits)
            svarsdata(person, query.blocks, answer.parts_for(index), query)
        # the extension types svarsdata in the ext namespace's PersonSvar
        for node in more.iter(f"{{{SSBT}}}svarsdata"):
            node.tag = f"{{{EXT}}}svarsdata"
        headers.append(more)
    if answer.notices:
        notices = etree.Element(f"{{{EXT}}}skyddadIdentitet", nsmap={"ext": EXT})
        for notice in answer.notices:
            entry = el(notices, EXT, "notis")
            el(entry, EXT, "personidentitet", notice.subject.digits)
            for tag in dict.fromkeys(_BLOCK_OF[p] for p in notice.flagged_by):
                el(entry, EXT, "flaggadAv", tag)
            el(entry, EXT, "text", PROTECTED_IDENTITY_TEXT)
        headers.append(notices)
    return headers


def test_response(statuses: Sequence[ProviderStatus]) -> etree._Element:
    """testaBastjanstInformation: per base service, whether it was reached, else the error."""
    response = etree.Element(f"{{{SSBT}}}testaBastjanstInformationResponse", nsmap={"ssbt": SSBT})
    by_provider = {status.health.provider: status for status in statuses}
    for tag, providers in BLOCKS:
        block = el(response, SSBT, tag)
        reached = [by_provider[p] for p in providers if p in by_provider]
        failed = [s for s in reached if not s.health.reachable]
        el(block, SSBT, "anropad", bool(reached))
        if failed:
            error = el(block, SSBT, "error")
            el(error, SSBT, "kalla", ErrorSource.SSBT.value)
            el(error, SSBT, "felkod", "UNREACHABLE")
            for status in failed:
                el(
                    error,
                    SSBT,
                    "felmeddelande",
                    f"{_name(status.health.provider)}: {status.health.detail}",
                )
    return envelope(response)


def _name(provider: Provider) -> str:
    return provider.value
