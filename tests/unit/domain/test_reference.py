"""The one rule for caller-supplied text that reaches an event (``domain/reference.py``,
ADR 0004): a personal identity number is found however it is written, and refused."""

from __future__ import annotations

import datetime as dt
import string
import uuid

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.agreement.values import VersionNumber
from domain.errors import InvalidFieldError, InvalidValueError
from domain.escalation.aggregate import Escalation
from domain.escalation.values import Acting, Party
from domain.incident.incident import Incident
from domain.incident.reporter import Reporter, ReporterKind
from domain.incident.service_levels import Impact
from domain.party.values import PartyRole
from domain.providers import STOCKHOLM
from domain.query.values import UNSPECIFIED_PROVIDER_CODE, provider_error_code
from domain.reference import (
    IDENTITY_NUMBER_RULE,
    holds_identity_number,
    opaque_reference,
    public_name,
    stored_reference,
)
from tests.hidden_identity_numbers import Hidden, hidden_identity_numbers

AT = dt.datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)
MUNICIPALITY = Party("2120000142", PartyRole.MUNICIPALITY)
OPERATOR = Party("2021005521", PartyRole.OPERATOR)
SKR = Party("2220000315", PartyRole.SKR)


@pytest.mark.parametrize(
    "text",
    [
        "REF/20030720/8256",  # the attack's three: split, dotted, padded
        "REF.490403.6110",
        "00197701251618",
        "19121212-1212",
        "121212+1212",  # '+': a person aged 100 or more
        "INC-7701851615",  # samordningsnummer: day 25 + 60
        "A1B9C7D7E0F1G2H5I1J6K1L8",  # a letter between every digit
        "١٩٧٧٠١٢٥١٦١٨",  # Arabic-Indic digits
        "１９７７０１２５－１６１８",  # full-width digits
    ],
)
def test_the_attacks_and_the_usual_forms_are_found(text: str) -> None:
    assert holds_identity_number(text)


@pytest.mark.parametrize(
    "text",
    ["INC-2026-0042", "DNR-2026/123", "212000-0142", "CHG-0042", "VIEW-KOMMUN-1", "1.0"],
)
def test_ordinary_references_pass(text: str) -> None:
    assert not holds_identity_number(text)
    assert opaque_reference(text) == text


@settings(max_examples=2_000, deadline=None)
@given(hidden_identity_numbers())
@example(Hidden("200307208256", "REF/20030720/8256"))
@example(Hidden("194904036110", "REF.490403.6110"))
@example(Hidden("197701251618", "00197701251618"))
def test_a_reference_hiding_an_identity_number_is_refused_by_that_rule(hidden: Hidden) -> None:
    with pytest.raises(InvalidValueError) as refused:
        opaque_reference(hidden.text)
    assert refused.value.description == IDENTITY_NUMBER_RULE
    assert hidden.text not in str(refused.value)


@settings(max_examples=1_000, deadline=None)
@given(hidden_identity_numbers(code_shaped=False))
def test_a_party_name_hiding_an_identity_number_is_refused(hidden: Hidden) -> None:
    with pytest.raises(InvalidValueError, match=IDENTITY_NUMBER_RULE):
        public_name(f"Kommun {hidden.text}")


@settings(max_examples=500, deadline=None)
@given(hidden_identity_numbers())
def test_a_provider_error_code_hiding_an_identity_number_is_not_kept(hidden: Hidden) -> None:
    assert provider_error_code(hidden.text[:32]) in (
        UNSPECIFIED_PROVIDER_CODE,
        hidden.text[:32].upper(),
    )
    if len(hidden.text) <= 32:
        assert provider_error_code(hidden.text) == UNSPECIFIED_PROVIDER_CODE


@given(st.text(string.ascii_letters + "_.:/#-", max_size=40), st.text(string.digits, max_size=9))
def test_a_reference_with_fewer_than_ten_digits_is_never_refused_for_them(
    letters: str, digits: str
) -> None:
    text = "R" + "".join(a + b for a, b in zip(letters, digits, strict=False)) + letters[:10]
    assert not holds_identity_number(text)


def test_a_version_number_hiding_an_identity_number_is_refused() -> None:
    with pytest.raises(InvalidValueError, match=IDENTITY_NUMBER_RULE):
        VersionNumber.parse("1977.0125.1618")
    assert str(VersionNumber.parse("2.1")) == "2.1"


def test_a_party_name_is_public_and_kept() -> None:
    assert public_name(" Demo kommun ") == "Demo kommun"
    with pytest.raises(InvalidValueError, match="printable"):
        public_name("Demo\nkommun")


def test_stored_reference_names_the_field() -> None:
    with pytest.raises(InvalidFieldError) as refused:
        stored_reference("view", "VIEW-19121212-1212")
    assert (refused.value.field, refused.value.description) == ("view", IDENTITY_NUMBER_RULE)


def _level_2() -> Escalation:
    case = Escalation.raise_dispute(
        escalation_id=uuid.uuid4(),
        raised_by=Acting(MUNICIPALITY),
        parties=[MUNICIPALITY, OPERATOR],
        subject="DNR-2026/481",
        forum=None,
        at=AT,
    )
    case.escalate(Acting(MUNICIPALITY), at=AT)
    case.submit_view(Acting(MUNICIPALITY), "VIEW-1", at=AT)
    case.submit_view(Acting(OPERATOR), "VIEW-2", at=AT)
    case.record_recommendation("REC-1", at=AT)
    case.escalate(Acting(OPERATOR), at=AT)
    return case


def test_the_aggregates_refuse_to_record_an_identity_number_whatever_the_caller() -> None:
    """The adapters check first; the aggregates check again as they record the event."""
    hidden = "DOC.19121212.1212"
    with pytest.raises(InvalidFieldError, match=IDENTITY_NUMBER_RULE) as refused:
        Escalation.raise_dispute(
            escalation_id=uuid.uuid4(),
            raised_by=Acting(MUNICIPALITY),
            parties=[MUNICIPALITY, OPERATOR],
            subject=hidden,
            forum=None,
            at=AT,
        )
    assert refused.value.field == "subject"
    case = _level_2()
    with pytest.raises(InvalidFieldError) as refused:
        case.decide(hidden, at=AT)
    assert refused.value.field == "decision"
    with pytest.raises(InvalidFieldError) as refused:
        case.escalate(Acting(SKR, MUNICIPALITY, hidden), at=AT)
    assert refused.value.field == "power_of_attorney"
    assert not case.is_final
    with pytest.raises(InvalidValueError, match=IDENTITY_NUMBER_RULE):
        Reporter.organisation("212000-0142", hidden)
    unchecked = Reporter(ReporterKind.ORGANISATION, "2120000142", hidden)
    with pytest.raises(InvalidFieldError) as refused:
        Incident.register(
            incident_id=uuid.uuid4(),
            reporter=unchecked,
            impact=Impact.TIMEOUTS,
            priority=None,
            providers=[],
            clock=None,  # type: ignore[arg-type]  # refused before the clock is asked
            at=AT,
        )
    assert refused.value.field == "reporter.reference"
