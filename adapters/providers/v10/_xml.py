"""XML on the wire: a hardened parser, and the codec between elements and wire payloads.

A wire payload is what the readers of ``adapters.providers.simulated`` take: plain dicts
keyed by the provider's own element (and attribute) names, text as strings, repeated
elements as lists. ``to_payload`` reads an element into one, ``from_payload`` writes one
as elements. Which names repeat, which are attributes and which are containers (complex
types that may arrive empty) is the provider's contract (``Shape``): XML alone cannot say.

The parser refuses DTDs' entities, network access and huge trees; a document it cannot
read is ``MalformedAnswerError`` whose message names the provider and never the content
(lxml's own message may quote the document, so it is dropped).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Final

import attrs
from lxml import etree

from application.ports import MalformedAnswerError
from domain.providers import PROFILES, Provider

SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
Payload = dict[str, Any]


@attrs.frozen
class Shape:
    """How a provider's payload maps onto XML (element names are local names)."""

    namespace: str | None  # the namespace of the payload's elements; None: unqualified
    repeated: frozenset[str] = frozenset()  # elements that may occur more than once
    attributes: frozenset[str] = frozenset()  # names carried as attributes
    containers: frozenset[str] = frozenset()  # complex elements that may arrive empty
    namespaces: Mapping[str, str] = attrs.field(factory=dict)  # element -> its own namespace


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )


def refused(provider: Provider, what: str) -> MalformedAnswerError:
    return MalformedAnswerError(f"{PROFILES[provider].name} answered with {what}")


def parse(provider: Provider, document: bytes) -> etree._Element:
    """The root of ``document``, or ``MalformedAnswerError`` (nothing of it in the message)."""
    root: etree._Element | None = None
    with contextlib.suppress(etree.XMLSyntaxError, ValueError):
        root = etree.fromstring(document, _parser())
    if root is None:
        raise refused(provider, "a document that is not well-formed XML")
    if root.getroottree().docinfo.internalDTD is not None:
        raise refused(provider, "a document type declaration")
    return root


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def to_payload(element: etree._Element, shape: Shape) -> Payload | str:
    """``element`` as a wire payload (a dict, or its text when it is a simple element)."""
    children = [child for child in element if isinstance(child.tag, str)]
    name = local(element)
    if not children and not element.attrib and name not in shape.containers:
        return element.text or ""
    payload: Payload = {etree.QName(key).localname: value for key, value in element.attrib.items()}
    for child in children:
        key = local(child)
        value = to_payload(child, shape)
        if key in shape.repeated:
            payload.setdefault(key, []).append(value)
        else:
            payload[key] = value
    return payload


def _qualified(name: str, shape: Shape) -> str:
    namespace = shape.namespaces.get(name, shape.namespace)
    return f"{{{namespace}}}{name}" if namespace else name


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fill(element: etree._Element, payload: Mapping[str, Any], shape: Shape) -> etree._Element:
    """Write ``payload`` into ``element`` (attributes, then child elements in order)."""
    for key, value in payload.items():
        if key in shape.attributes:
            element.set(key, _text(value))
            continue
        for item in value if isinstance(value, list) else [value]:
            child = etree.SubElement(element, _qualified(key, shape))
            if isinstance(item, Mapping):
                fill(child, item, shape)
            else:
                child.text = _text(item)
    return element


def from_payload(name: str, payload: Mapping[str, Any], shape: Shape) -> etree._Element:
    """A new element ``name`` holding ``payload``."""
    return fill(etree.Element(_qualified(name, shape)), payload, shape)


def serialise(element: etree._Element) -> bytes:
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8"))


def envelope(body: etree._Element) -> bytes:
    """A SOAP 1.1 envelope around ``body``."""
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(root, f"{{{SOAP_ENV}}}Body").append(body)
    return serialise(root)


def fault_envelope(code: str, text: str, detail: etree._Element | None = None) -> bytes:
    """A SOAP 1.1 ``Fault``: ``soap:Server`` or ``soap:Client``, a text, a detail."""
    fault = etree.Element(f"{{{SOAP_ENV}}}Fault", nsmap={"soap": SOAP_ENV})
    etree.SubElement(fault, "faultcode").text = f"soap:{code}"
    etree.SubElement(fault, "faultstring").text = text
    if detail is not None:
        etree.SubElement(fault, "detail").append(detail)
    return envelope(fault)


def body_of(provider: Provider, document: bytes) -> etree._Element:
    """The one element inside the SOAP ``Body`` of ``document``."""
    root = parse(provider, document)
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise refused(provider, "a document that is not a SOAP envelope")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    content = [] if body is None else [child for child in body if isinstance(child.tag, str)]
    if len(content) != 1:
        raise refused(provider, "a SOAP body without exactly one element")
    return content[0]


def is_fault(element: etree._Element) -> bool:
    return element.tag == f"{{{SOAP_ENV}}}Fault"
