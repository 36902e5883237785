"""The v10 adapters' XML reading: hostile documents are refused without quoting them."""

from __future__ import annotations

import pytest

from adapters.providers.v10._xml import body_of, parse
from application.ports import MalformedAnswerError
from domain.providers import Provider

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE svar [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<svar>&secret;</svar>"""


@pytest.mark.parametrize("document", [LAUGHS, EXTERNAL], ids=["entities", "external entity"])
def test_a_document_type_declaration_is_refused(document: bytes) -> None:
    with pytest.raises(MalformedAnswerError) as refused:
        parse(Provider.CSN, document)
    assert "lol" not in str(refused.value)
    assert refused.value.__cause__ is None


def test_what_is_not_xml_is_refused_without_quoting_it() -> None:
    with pytest.raises(MalformedAnswerError) as refused:
        parse(Provider.CSN, b"<svar>191212121212</sv")
    assert "191212121212" not in str(refused.value)
    assert refused.value.__cause__ is None
    assert refused.value.__context__ is None


@pytest.mark.parametrize(
    "document",
    [
        b"<svar/>",
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body/></s:Envelope>'.encode(),
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body><a/><b/></s:Body></s:Envelope>'.encode(),
    ],
    ids=["no envelope", "empty body", "two elements"],
)
def test_a_body_must_hold_exactly_one_element(document: bytes) -> None:
    with pytest.raises(MalformedAnswerError):
        body_of(Provider.SKATTEVERKET, document)
