from __future__ import annotations

import datetime as dt
import uuid

import pytest

from domain.providers import Provider
from domain.query.aggregate import Query, QueryStateError, QueryStatus, RejectionReason
from domain.query.values import (
    CallOutcome,
    ErrorSource,
    LegalBasis,
    OutcomeKind,
    Period,
    ProviderSelection,
    Purpose,
    provider_error_code,
)

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
PERIOD = Period.of(dt.date(2026, 5, 1), dt.date(2026, 10, 31))


def received(*providers: Provider, subjects: int = 2) -> Query:
    return Query.receive(
        query_id=uuid.uuid4(),
        asking_organisation="2120000142",
        caseworker_pseudonym="a" * 32,
        subject_count=subjects,
        selections=[ProviderSelection(p, PERIOD) for p in providers],
        purpose=Purpose.FINANCIAL_ASSISTANCE_CASE,
        legal_basis=LegalBasis.SOL_11_KAP_11,
        period=PERIOD,
        deadline=NOW + dt.timedelta(seconds=5),
        at=NOW,
    )


def outcomes(*kinds: OutcomeKind) -> list[CallOutcome]:
    return [CallOutcome(index, kind, 10) for index, kind in enumerate(kinds)]


def test_a_query_runs_from_received_to_erased_with_one_event_per_step() -> None:
    query = received(Provider.CSN, Provider.SKATTEVERKET)
    query.compile(
        outcomes={
            Provider.SKATTEVERKET: [
                CallOutcome(1, OutcomeKind.ANSWERED, 30),
                CallOutcome(0, OutcomeKind.ERROR, 5000, ErrorSource.SSBT, "TIMEOUT"),
            ],
            Provider.CSN: outcomes(OutcomeKind.ANSWERED, OutcomeKind.NO_DATA),
        },
        protected_identity_notices=1,
        at=NOW,
    )
    query.deliver(at=NOW + dt.timedelta(milliseconds=1500))
    query.erase_case_data(at=NOW + dt.timedelta(milliseconds=1500))

    events = query.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Received",
        "Compiled",
        "Delivered",
        "CaseDataErased",
    ]
    compiled = events[1]
    assert isinstance(compiled, Query.Compiled)
    assert (compiled.answered, compiled.no_data, compiled.errors, compiled.closed) == (2, 1, 1, 0)
    # in the query's provider order, each provider's outcomes in subject order
    assert [(c.provider, [o.subject_index for o in c.outcomes]) for c in compiled.calls] == [
        (Provider.CSN, [0, 1]),
        (Provider.SKATTEVERKET, [0, 1]),
    ]
    assert query.outcomes[Provider.SKATTEVERKET][0].error_code == "TIMEOUT"
    delivered = events[2]
    assert isinstance(delivered, Query.Delivered)
    assert delivered.elapsed_ms == 1500
    assert query.status is QueryStatus.ERASED


def test_compiling_before_every_provider_answered_is_refused() -> None:
    query = received(Provider.CSN, Provider.SKATTEVERKET)
    with pytest.raises(QueryStateError, match="every included provider"):
        query.compile(
            outcomes={Provider.CSN: outcomes(OutcomeKind.ANSWERED, OutcomeKind.ANSWERED)},
            protected_identity_notices=0,
            at=NOW,
        )
    assert query.status is QueryStatus.RECEIVED


def test_an_outcome_for_a_provider_not_included_is_refused() -> None:
    query = received(Provider.CSN)
    with pytest.raises(QueryStateError, match="not included"):
        query.compile(
            outcomes={
                Provider.CSN: outcomes(OutcomeKind.ANSWERED, OutcomeKind.ANSWERED),
                Provider.SKATTEVERKET: outcomes(OutcomeKind.ANSWERED, OutcomeKind.ANSWERED),
            },
            protected_identity_notices=0,
            at=NOW,
        )


@pytest.mark.parametrize(
    "indices", [[0], [0, 0], [0, 1, 2], [1, 2]], ids=["missing", "twice", "extra", "shifted"]
)
def test_outcomes_must_cover_every_subject_exactly_once(indices: list[int]) -> None:
    query = received(Provider.CSN)
    given = [CallOutcome(i, OutcomeKind.ANSWERED, 10) for i in indices]
    with pytest.raises(QueryStateError, match="one outcome per subject"):
        query.compile(outcomes={Provider.CSN: given}, protected_identity_notices=0, at=NOW)


def test_a_query_is_compiled_once() -> None:
    query = received(Provider.CSN, subjects=1)
    answers = {Provider.CSN: outcomes(OutcomeKind.ANSWERED)}
    query.compile(outcomes=answers, protected_identity_notices=0, at=NOW)
    with pytest.raises(QueryStateError, match="COMPILED, not RECEIVED"):
        query.compile(outcomes=answers, protected_identity_notices=0, at=NOW)


def test_delivery_needs_a_compiled_answer_and_erasure_needs_delivery() -> None:
    query = received(Provider.CSN, subjects=1)
    with pytest.raises(QueryStateError):
        query.deliver(at=NOW)
    with pytest.raises(QueryStateError):
        query.erase_case_data(at=NOW)


def test_a_rejected_query_records_the_reason_and_field_names_only() -> None:
    query = Query.reject(
        query_id=uuid.uuid4(),
        asking_organisation="2120000142",
        reason=RejectionReason.INVALID_ARGUMENT,
        fields=["subjects[1]", "case_id", "subjects[1]"],
        at=NOW,
    )
    (event,) = query.collect_events()
    assert isinstance(event, Query.Rejected)
    assert event.fields == ["case_id", "subjects[1]"]
    assert query.status is QueryStatus.REJECTED


def test_a_query_needs_subjects_and_distinct_providers() -> None:
    with pytest.raises(QueryStateError):
        received(Provider.CSN, subjects=0)
    with pytest.raises(QueryStateError):
        received(Provider.CSN, Provider.CSN)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("1001", "1001"), (" err-12 ", "ERR-12"), ("Personen 19121212-1212 saknas", "UNSPECIFIED")],
)
def test_only_code_shaped_provider_error_codes_are_stored(raw: str, stored: str) -> None:
    assert provider_error_code(raw) == stored


def test_a_period_may_not_be_reversed_or_longer_than_two_years() -> None:
    from domain.errors import InvalidValueError

    with pytest.raises(InvalidValueError, match="end before"):
        Period.of(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    with pytest.raises(InvalidValueError, match="longer than"):
        Period.of(dt.date(2023, 1, 1), dt.date(2026, 1, 1))


def test_a_query_left_unanswered_is_abandoned_only_after_its_deadline() -> None:
    query = received(Provider.CSN, subjects=1)
    with pytest.raises(QueryStateError, match="after its deadline"):
        query.abandon(reason="PROCESS_ENDED", at=NOW + dt.timedelta(seconds=1))
    query.abandon(reason="PROCESS_ENDED", at=NOW + dt.timedelta(seconds=6))
    assert query.status is QueryStatus.ABANDONED
    with pytest.raises(QueryStateError):
        query.compile(outcomes={}, protected_identity_notices=0, at=NOW)
