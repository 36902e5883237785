"""After a store fault clears: the service answers again, and no answer lost its audit."""

from __future__ import annotations

import asyncio
import time
import uuid

from application.errors import AuditUnavailableError
from application.queries import Queries
from domain.query.aggregate import Query, QueryStatus
from tests.unit.application.test_query_saga import command


async def answers_again_with_every_audit_complete(
    queries: Queries, answered: list[uuid.UUID], *, within_s: float = 30.0
) -> None:
    """Retry until a query is answered (``within_s``); every answered query, this one and
    ``answered`` before it, replays as ERASED: its whole audit trail was written."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            answered.append(
                (await queries.submit(command(client_request_id=uuid.uuid4().hex))).query_id
            )
            break
        except AuditUnavailableError:
            assert time.monotonic() < deadline, "the service did not recover"
            await asyncio.sleep(0.3)
    for query_id in answered:
        query: Query = queries.repository.get(query_id)
        assert query.status is QueryStatus.ERASED
