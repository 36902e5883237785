"""The project's own rendering of the v10 contract (``contract/``), and the hardened parser.

Requests are parsed with entities, DTDs and the network off and huge trees refused; a
document type declaration of any kind is refused outright, so neither entity expansion
nor an external entity (XXE) ever reaches the parser's resolver. The parsed element is
then validated against the v10 schema. Every refusal here is a ``ContractViolation``
whose messages name elements from the contract and the rule, never a value: an element
name the contract does not know is shown as ``*`` (it could be anything a caller typed).
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Final

import attrs
from lxml import etree

SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
SSBT: Final = "http://schema.forsakringskassan.se/integration/ssbt/10"
EXT: Final = "http://schema.ssbtek-core.se/v10/tillagg/1"
AF: Final = "http://api.arbetsformedlingen.se/arbetssokande/ersattningsstod/v2"
SKV: Final = "http://beskattningws.ws.service.bs.zg.rsv.se/"
SO: Final = "http://INT014.UBPService.Schemas"
TNS: Final = "http://schema.transportstyrelsen.se/ssbtek/hamtauppgifterresponder/1"
FORDON: Final = "http://schema.transportstyrelsen.se/ssbtek/fordon/1"
MIV: Final = "http://schema.migrationsverket.se/ssbtek/1/"
XSD: Final = "http://www.w3.org/2001/XMLSchema"

WSDL_FILE: Final = "Sammansatt_Bastjanst_v10.wsdl"
MAIN_SCHEMA: Final = "sammansatt_bastjanst_v10.xsd"
EXTENSION_SCHEMA: Final = "ssbtek_tillagg_v1.xsd"
ADDRESS_PLACEHOLDER: Final = "REPLACE_WITH_ACTUAL_URL"

MAX_REQUEST_BYTES: Final = 64 * 1024
"""A v10 query is a few kilobytes (the largest part, FK's base64 Lefi question, well under
ten); anything past this is refused before it is parsed."""

OPERATIONS: Final = ("hamtaBastjanstInformation", "testaBastjanstInformation")


class ContractViolation(Exception):
    """The request is not a v10 request: ``code`` for ``felkod``, ``messages`` for
    ``felmeddelande`` (each names an element path and a rule, never a value)."""

    def __init__(
        self,
        code: str,
        messages: list[str],
        operation: str = OPERATIONS[0],
        *,
        fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages
        self.operation = operation
        self.fields = fields
        """The element paths the rules name (contract names or ``*``), never a value."""
        self.organisation: str | None = None
        """A query's ``organisationsnummer`` as the request named it (``""``: none), when the
        envelope held a ``hamtaBastjanstInformation``: the refusal is recorded (ADR 19)."""

    def of_query(self, organisation: str) -> ContractViolation:
        """This refusal, of a query that named ``organisation``."""
        self.organisation = organisation
        return self


@attrs.frozen
class SoapRequest:
    """A parsed, schema-valid request: PERSONAL DATA (the body and headers hold it)."""

    operation: str
    body: etree._Element
    headers: tuple[etree._Element, ...]

    def __repr__(self) -> str:
        return f"SoapRequest({self.operation}, <personal data redacted>)"


def contract_files() -> dict[str, bytes]:
    """Every file of the rendered contract, by name (served beside the WSDL)."""
    folder = resources.files("adapters.soap") / "contract"
    return {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if entry.name.endswith((".xsd", ".wsdl"))
    }


def wsdl(address: str) -> bytes:
    """The WSDL with the service's own address in ``soap:address``."""
    text = contract_files()[WSDL_FILE].decode()
    return text.replace(ADDRESS_PLACEHOLDER, address).encode()


@functools.cache
def _schema(name: str) -> etree.XMLSchema:
    path = resources.files("adapters.soap") / "contract" / name
    with resources.as_file(path) as file:
        return etree.XMLSchema(etree.parse(str(file), _contract_parser()))


def main_schema() -> etree.XMLSchema:
    return _schema(MAIN_SCHEMA)


def extension_schema() -> etree.XMLSchema:
    return _schema(EXTENSION_SCHEMA)


@functools.cache
def known_names() -> frozenset[str]:
    """Every element and attribute name the contract declares: the names a message may show."""
    names = {"Envelope", "Header", "Body"}
    for content in contract_files().values():
        root = etree.fromstring(content, _contract_parser())
        for node in root.iter(f"{{{XSD}}}element", f"{{{XSD}}}attribute"):
            name = node.get("name")
            if name:
                names.add(name)
    return frozenset(names)


def _contract_parser() -> etree.XMLParser:
    """The project's own files: local, trusted, still without entities or network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _request_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def parse_request(body: bytes) -> SoapRequest:
    """The envelope's operation, its body element and its header elements, schema-valid."""
    if len(body) > MAX_REQUEST_BYTES:
        raise ContractViolation(
            "REQUEST_TOO_LARGE", [f"the request body must be at most {MAX_REQUEST_BYTES} bytes"]
        )
    try:
        root = etree.fromstring(body, _request_parser())
    except etree.XMLSyntaxError:
        raise ContractViolation("MALFORMED_XML", ["the request is not well-formed XML"]) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ContractViolation(
            "DTD_NOT_ALLOWED", ["a document type declaration (DTD, entities) is not allowed"]
        )
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise ContractViolation(
            "NOT_A_SOAP_1_1_ENVELOPE",
            [f"the root element must be Envelope in the SOAP 1.1 namespace {SOAP_ENV}"],
        )
    body_element = root.find(f"{{{SOAP_ENV}}}Body")
    children = [] if body_element is None else [c for c in body_element if _is_element(c)]
    if len(children) != 1:
        raise ContractViolation("NOT_A_SOAP_1_1_ENVELOPE", ["Body must hold exactly one element"])
    operation_element = children[0]
    name = etree.QName(operation_element)
    if name.namespace != SSBT or name.localname not in OPERATIONS:
        raise ContractViolation(
            "UNKNOWN_OPERATION",
            [
                f"Body must hold hamtaBastjanstInformation or testaBastjanstInformation "
                f"in the namespace {SSBT}"
            ],
        )
    header = root.find(f"{{{SOAP_ENV}}}Header")
    headers = tuple(c for c in header if _is_element(c)) if header is not None else ()
    try:
        _validate(main_schema(), operation_element, name.localname, prefix=())
        for element in headers:
            _check_header(element, name.localname)
    except ContractViolation as violation:
        if name.localname == OPERATIONS[0]:
            raise violation.of_query(named_organisation(operation_element)) from None
        raise
    return SoapRequest(name.localname, operation_element, headers)


def named_organisation(query: etree._Element) -> str:
    """The ``ingivare/organisationsnummer`` a query names, as text (``""``: none); not judged
    here: the saga records it only if it is an organisation number."""
    path = ("generellaFrageparametrar", "ingivare", "organisationsnummer")
    node = query.find("/".join(f"{{{SSBT}}}{step}" for step in path))
    if node is None or not isinstance(node.text, str):
        return ""
    return node.text.strip()[:40]


def _is_element(node: object) -> bool:
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def _check_header(element: etree._Element, operation: str) -> None:
    """Extension headers are validated; others are ignored unless they must be understood."""
    if etree.QName(element).namespace == EXT:
        _validate(extension_schema(), element, operation, prefix=("Header",))
        return
    must = element.get(f"{{{SOAP_ENV}}}mustUnderstand", "0").strip()
    if must in ("1", "true"):
        raise ContractViolation(
            "MUST_UNDERSTAND",
            ["Header holds an element marked mustUnderstand that the service does not know"],
            operation,
            fields=("Header",),
        )


def _validate(
    schema: etree.XMLSchema, element: etree._Element, operation: str, prefix: tuple[str, ...]
) -> None:
    if schema.validate(element):
        return
    broken = [(_path(error.path, prefix), _rule(error.type_name)) for error in schema.error_log]
    messages = [f"{path} {rule}" for path, rule in broken]
    fields = tuple(dict.fromkeys(path for path, _ in broken))
    raise ContractViolation(
        "SCHEMA_VIOLATION", list(dict.fromkeys(messages)), operation, fields=fields
    )


_STEP = re.compile(r"^(?:[^:\[]*:)?([^\[]*)(\[\d+\])?$")


def _path(xpath: str | None, prefix: tuple[str, ...]) -> str:
    """``/ssbt:hamta.../ssbt:generellaFrageparametrar/ssbt:personidentitet`` ->
    ``generellaFrageparametrar.personidentitet`` (names the contract knows, else ``*``)."""
    steps = [step for step in (xpath or "").split("/") if step][1:]  # drop the operation
    names = list(prefix)
    for step in steps:
        match = _STEP.match(step)
        name = match.group(1) if match else ""
        names.append(name if name in known_names() else "*")
    return ".".join(names) or "the operation element"


_RULES: Final = {
    "SCHEMAV_CVC_PATTERN_VALID": "does not match the pattern of its v10 type",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1": "is not a valid value of its v10 type",
    "SCHEMAV_CVC_MINLENGTH_VALID": "must not be empty",
    "SCHEMAV_CVC_ENUMERATION_VALID": "is not one of the values its v10 type allows",
    "SCHEMAV_ELEMENT_CONTENT": "has a missing, unexpected or misplaced child element",
    "SCHEMAV_CVC_COMPLEX_TYPE_4": "lacks a required attribute",
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1": "has an attribute the v10 type does not allow",
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_2": "has an attribute the v10 type does not allow",
    "SCHEMAV_CVC_ELT_1": "is not an element of the v10 contract",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_3": "must not hold text",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_4": "has an element the v10 type does not allow",
}


def _rule(type_name: str) -> str:
    return _RULES.get(type_name, "breaks the v10 schema")
