"""The stored-format adapter reads an event's time and a text field as the transcoder wrote them."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from adapters.persistence.stored_format import LibraryJsonFormat
from domain.providers import STOCKHOLM
from domain.query.aggregate import Query, RejectionReason
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock, fake_base_services

AT = dt.datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=STOCKHOLM)


def stored_rejection() -> bytes:
    queries = build_queries(
        Settings(store=Store.MEMORY, pseudonym_key_hex=TEST_KEY),
        base_services=fake_base_services(),
        clock=FakeClock(AT),
    )
    event = Query.reject(
        query_id=uuid.uuid4(),
        asking_organisation="2120000142",
        reason=RejectionReason.INVALID_ARGUMENT,
        fields=[],
        at=AT,
    ).collect_events()[0]
    return bytes(queries.mapper.to_stored_event(event).state)


def test_the_time_and_a_text_field_of_a_state_the_application_wrote() -> None:
    state = stored_rejection()
    stored = LibraryJsonFormat()
    assert stored.timestamp(state) == AT
    assert stored.text(state, "asking_organisation") == "2120000142"
    assert stored.text(state, "reason") == ""  # an envelope, not text
    assert stored.text(state, "absent") == ""


def test_the_quick_read_of_the_time_agrees_with_parsing_the_whole_state() -> None:
    state = stored_rejection()
    reordered = json.dumps(dict(reversed(list(json.loads(state).items())))).encode()
    assert not reordered.startswith(b'{"timestamp"')
    stored = LibraryJsonFormat()
    assert stored.timestamp(reordered) == stored.timestamp(state) == AT
    naive = b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-25T11:00:00"}}'
    assert stored.timestamp(naive) == dt.datetime(2026, 11, 25, 11, tzinfo=dt.UTC)
    assert stored.timestamp(b'{"timestamp":{"_type_":"datetime_iso","_data_":"soon"}}') is None
    assert stored.timestamp(b"not json") is None
