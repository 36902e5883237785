from __future__ import annotations

import base64
import json

import pytest

from adapters.grpc import paging
from application.errors import InvalidRequestError


def test_a_token_resumes_the_list_and_filter_it_was_given_for() -> None:
    token = paging.encode("incidents", 42, open_only=True)
    assert token
    assert "=" not in token
    assert paging.decode(token, "incidents", open_only=True) == 42


def test_no_next_page_is_an_empty_token_and_no_token_the_first_page() -> None:
    assert paging.encode("incidents", None) == ""
    assert paging.decode("", "incidents") is None


def _token(fields: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        paging.encode("problems", 42),  # another list
        paging.encode("incidents", 42, open_only=True),  # another filter
        "not a token",
        "%%%%",
        _token([1, 2]),
        _token({"list": "incidents", "open_only": False, "before": "42"}),
        _token({"list": "incidents", "open_only": False, "before": True}),
        _token({"list": "incidents", "open_only": False, "before": 0}),
        _token({"list": "incidents", "open_only": 0, "before": 42}),
    ],
)
def test_any_other_token_is_refused_on_the_page_token_field(token: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        paging.decode(token, "incidents")
    assert [v.field for v in refused.value.violations] == ["page_token"]
