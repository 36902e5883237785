"""Refusals are on record against the organisation that made the call (ADR 24): ``Rejected``
version 3 names the caller its certificate proved and the organisation it claimed; the
monthly report counts a refusal against the caller and lists attempts to act as another
organisation by caller; replay filters by caller. Refusals stored before version 3 keep
what they have, read as the upcast says."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.persistence.stored_format import LibraryJsonFormat
from application.audit.replay import Replay, ReplayFilter
from application.audit.report import MonthlyReports
from application.audit.report_model import Month
from application.queries import Queries
from domain.providers import STOCKHOLM
from domain.query.aggregate import Query, QueryStateError, RejectionReason
from domain.query.values import EntryPoint
from infrastructure.composition import build_queries, working_hours
from infrastructure.settings import Settings, Store
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock, fake_base_services
from tests.unit.application.test_query_saga import command

A = "2120000142"
B = "2120000159"
C = "2120000126"
NOVEMBER = Month(2026, 11)
TOPIC = "domain.query.aggregate:Query.Rejected"


def _v2(organisation: str, reason: str, day: int) -> bytes:
    """A refusal exactly as version 2 stored it: the organisation the request named."""
    return (
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-%02dT09:00:00+00:00"},'
        b'"originator_topic":"domain.query.aggregate:Query","asking_organisation":"%s",'
        b'"reason":{"_type_":"ssbtek.rejection_reason","_data_":"%s"},"fields":[],'
        b'"entry_point":{"_type_":"ssbtek.entry_point","_data_":"GRPC"},"class_version":2}'
    ) % (day, organisation.encode(), reason.encode())


@pytest.fixture
def queries() -> Iterator[Queries]:
    app = build_queries(
        Settings(store=Store.MEMORY, pseudonym_key_hex=TEST_KEY, rate_limit=""),
        base_services=fake_base_services(),
        clock=FakeClock(dt.datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)),
    )
    yield app
    app.close()


def _store_old(queries: Queries, state: bytes) -> uuid.UUID:
    query_id = uuid.uuid4()
    queries.recorder.insert_events([StoredEvent(query_id, 1, TOPIC, state)])
    return query_id


def _rejected(queries: Queries) -> list[Query.Rejected]:
    events = [
        queries.mapper.to_domain_event(n) for n in queries.recorder.select_notifications(1, 1000)
    ]
    return [e for e in events if isinstance(e, Query.Rejected)]


def test_a_mismatch_stored_before_callers_were_recorded_is_filed_under_no_organisation(
    queries: Queries,
) -> None:
    """Version 2 filed an ORGANISATION_MISMATCH under the organisation claimed (the victim)."""
    mismatch_id = _store_old(queries, _v2(B, "ORGANISATION_MISMATCH", 3))
    unknown_id = _store_old(queries, _v2(A, "CASEWORKER_UNKNOWN", 4))
    mismatch, unknown = _rejected(queries)
    assert (mismatch.asking_organisation, mismatch.caller, mismatch.claimed_organisation) == (
        "",
        "",
        B,
    )
    assert mismatch.impersonation
    assert mismatch.entry_point is EntryPoint.GRPC
    assert (unknown.asking_organisation, unknown.caller, unknown.claimed_organisation) == (
        A,
        "",
        "",
    )
    assert not unknown.impersonation
    assert queries.repository.get(mismatch_id).claimed_organisation == B
    assert queries.repository.get(unknown_id).asking_organisation == A


def test_the_report_counts_a_refusal_against_the_caller_and_lists_impersonation_by_caller(
    queries: Queries,
) -> None:
    at = dt.datetime(2026, 11, 10, 10, 0, tzinfo=STOCKHOLM)
    for claimed in (B, B, C):  # A's certificate asked as B, B and C
        queries.save(
            Query.reject(
                query_id=uuid.uuid4(),
                asking_organisation=A,
                reason=RejectionReason.ORGANISATION_MISMATCH,
                fields=[],
                at=at,
                caller=A,
                claimed_organisation=claimed,
            )
        )
        at += dt.timedelta(minutes=5)
    queries.save(  # B's own refusal: B's
        Query.reject(
            query_id=uuid.uuid4(),
            asking_organisation=B,
            reason=RejectionReason.CASEWORKER_UNKNOWN,
            fields=[],
            at=at,
            caller=B,
        )
    )
    _store_old(queries, _v2(B, "ORGANISATION_MISMATCH", 12))  # someone, as B, long ago

    report = MonthlyReports(
        queries,
        working_hours(),
        running_time=None,
        stored=LibraryJsonFormat(),
        clock=FakeClock(dt.datetime(2026, 12, 2, tzinfo=STOCKHOLM)),
    ).build(NOVEMBER)

    refused = {row.organisation: row.rejected for row in report.usage.organisations}
    assert refused == {"212000-0142": 3, "212000-0159": 1, "": 1}
    assert report.usage.rejected == 5
    unknown, by_a = report.security_events
    assert (unknown.caller, unknown.claimed, unknown.attempts) == ("", ("212000-0159",), 1)
    assert (by_a.caller, by_a.claimed, by_a.attempts) == (
        "212000-0142",
        ("212000-0126", "212000-0159"),
        3,
    )
    assert by_a.last_at - by_a.first_at == dt.timedelta(minutes=10)


def test_replay_by_caller_and_by_asking_organisation(queries: Queries) -> None:
    old = _store_old(queries, _v2(B, "ORGANISATION_MISMATCH", 3))
    queries.save(
        Query.reject(
            query_id=(new := uuid.uuid4()),
            asking_organisation=A,
            reason=RejectionReason.ORGANISATION_MISMATCH,
            fields=[],
            at=dt.datetime(2026, 11, 5, 9, 0, tzinfo=STOCKHOLM),
            caller=A,
            claimed_organisation=B,
        )
    )
    replay = Replay({"queries": queries.recorder}, LibraryJsonFormat())

    def ids(**chosen: frozenset[str]) -> list[str]:
        return [e.originator_id for e in replay.events(ReplayFilter(**chosen))]  # type: ignore[arg-type]

    assert ids(callers=frozenset({A})) == [str(new)]
    assert ids(asking_organisations=frozenset({A})) == [str(new)]
    assert ids(asking_organisations=frozenset({B})) == []  # B is shown nothing it did not do
    assert ids(callers=frozenset({B})) == []
    assert str(old) in ids()


async def test_the_saga_records_the_caller_and_the_claim_of_each_refusal(
    queries: Queries,
) -> None:
    from application.errors import InvalidRequestError, PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        await queries.submit(command(organisation_number=B, authenticated_organisation=A))
    with pytest.raises(InvalidRequestError):  # a bad request from A, naming B
        await queries.submit(
            command(("not a personnummer",), organisation_number=B, authenticated_organisation=A)
        )
    with pytest.raises(InvalidRequestError):  # plaintext development: no certificate
        await queries.submit(command(("not a personnummer",), organisation_number=B))
    recorded = [
        (e.reason.value, e.asking_organisation, e.caller, e.claimed_organisation)
        for e in _rejected(queries)
    ]
    assert recorded == [
        ("ORGANISATION_MISMATCH", A, A, B),
        ("INVALID_ARGUMENT", A, A, B),
        ("INVALID_ARGUMENT", B, "", ""),
    ]


def test_a_refusal_is_counted_against_the_caller_its_certificate_proved() -> None:
    moment = dt.datetime(2026, 11, 5, 9, 0, tzinfo=STOCKHOLM)
    with pytest.raises(QueryStateError):
        Query.reject(
            query_id=uuid.uuid4(),
            asking_organisation=B,
            reason=RejectionReason.ORGANISATION_MISMATCH,
            fields=[],
            at=moment,
            caller=A,
        )
    with pytest.raises(QueryStateError):
        Query.reject(
            query_id=uuid.uuid4(),
            asking_organisation=A,
            reason=RejectionReason.ORGANISATION_MISMATCH,
            fields=[],
            at=moment,
            caller=A,
            claimed_organisation=A,
        )
