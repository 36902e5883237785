"""Page tokens of the list calls: opaque to clients, a log position to the service.

A token says which list it belongs to, with which filter, and the position in the
application's log the next page starts before (``application.registrations.Page``). The
position of a registration never changes and new ones get higher positions, so a page is
stable when others register meanwhile. A token from another list or filter, or one that
is not a token at all, is ``INVALID_ARGUMENT`` on ``page_token``. Nothing in a token is
secret or personal: it is encoded, not encrypted.
"""

from __future__ import annotations

import base64
import binascii
import json

from application.errors import InvalidRequestError
from domain.errors import FieldViolation

FIELD = "page_token"


def encode(list_name: str, before: int | None, *, open_only: bool = False) -> str:
    """The token of the page starting before ``before``; empty when there is no next page."""
    if before is None:
        return ""
    text = json.dumps({"list": list_name, "open_only": open_only, "before": before})
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(token: str, list_name: str, *, open_only: bool = False) -> int | None:
    """The position a page token resumes before; ``None`` for the first page (no token)."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        fields = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (UnicodeError, binascii.Error, ValueError):
        fields = None
    if (
        not isinstance(fields, dict)
        or fields.get("list") != list_name
        or fields.get("open_only") is not open_only
        or not isinstance(fields.get("before"), int)
        or isinstance(fields.get("before"), bool)
        or fields["before"] < 1
    ):
        raise InvalidRequestError(
            [FieldViolation(FIELD, "is not a page token of this list with this filter")]
        )
    before: int = fields["before"]
    return before
