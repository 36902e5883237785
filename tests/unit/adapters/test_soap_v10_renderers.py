"""Every record type the service can return has a v10 renderer, checked before the SOAP
endpoint serves: an answer it could not render would otherwise fail only after the trail
recorded it ``Delivered`` (ADR 19, ADR 23)."""

from __future__ import annotations

from typing import Any, cast

import attrs
import pytest

from adapters.soap import provider_blocks
from adapters.soap.provider_blocks import MissingRenderer, check_complete, record_types
from adapters.soap.request import BLOCKS
from adapters.soap.server import SoapEndpoint
from application.queries import Queries
from domain.provider_data import CsnRecord, ForsakringskassanRecord
from domain.providers import Provider


def test_every_record_type_of_the_domain_has_a_renderer() -> None:
    assert CsnRecord in record_types()
    assert ForsakringskassanRecord in record_types()
    assert len(record_types()) == len(Provider)  # one record type per provider
    check_complete()


@attrs.frozen
class BenefitOfTomorrowRecord:
    protected_identity: bool = False


def test_a_record_type_without_a_renderer_stops_the_check() -> None:
    with pytest.raises(MissingRenderer, match="BenefitOfTomorrowRecord has no v10 renderer"):
        check_complete(record_types() | {BenefitOfTomorrowRecord})


def test_a_provider_without_a_block_stops_the_check() -> None:
    without_csn = [(tag, members) for tag, members in BLOCKS if tag != "CSN"]
    with pytest.raises(MissingRenderer, match="provider CSN has no v10 block"):
        check_complete(blocks=without_csn)


def test_the_endpoint_does_not_start_when_a_renderer_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(provider_blocks.RENDERERS, CsnRecord)
    with pytest.raises(MissingRenderer, match="CsnRecord has no v10 renderer"):
        SoapEndpoint(cast(Queries, cast(Any, object())))
