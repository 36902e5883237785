"""Whether the configured PostgreSQL database can be reached, as one line for a person.

``ssbtek serve --store postgres`` and the audit commands ask this before they open a store,
so a database that does not exist or a server that is down is one clear line, not a pool
retrying for seconds and a traceback. The line never holds the password. ``ssbtek serve``
waits for a server that is not up yet (``wait_for_postgres``, ADR 23) unless
``SSBTEK_POSTGRES_WAIT_AT_START=off``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from infrastructure.settings import PostgresSettings

_LASTING: Final = (
    "does not exist",
    "password authentication failed",
    "no pg_hba.conf entry",
    "authentication failed",
)
"""Problems that waiting does not solve: a missing database or role, a refused login."""
FIRST_WAIT_S: Final = 1.0
LONGEST_WAIT_S: Final = 30.0


def lasting(problem: str) -> bool:
    """Whether ``postgres_problem``'s line names a mistake rather than a server not up yet."""
    return any(words in problem for words in _LASTING)


def wait_for_postgres(
    pg: PostgresSettings,
    *,
    log: logging.Logger,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Until a connection opens: one log line per failed attempt naming host and port (never
    the password), waiting 1 s, then twice as long each time, at most 30 s. Returns None once
    connected, or the problem at once when waiting cannot help (``lasting``)."""
    wait_s = FIRST_WAIT_S
    attempt = 1
    while (problem := postgres_problem(pg)) is not None:
        if lasting(problem):
            return problem
        log.warning(
            "waiting for PostgreSQL at %s:%d (attempt %d, next in %.0f s): %s",
            pg.host,
            pg.port,
            attempt,
            wait_s,
            problem,
        )
        sleep(wait_s)
        wait_s = min(wait_s * 2, LONGEST_WAIT_S)
        attempt += 1
    if attempt > 1:
        log.warning("PostgreSQL at %s:%d answers: starting", pg.host, pg.port)
    return None


def postgres_problem(pg: PostgresSettings) -> str | None:
    """None when a connection opens; otherwise what is wrong and what to do about it."""
    import psycopg  # only the commands that open a PostgreSQL store pay for it

    try:
        psycopg.connect(
            host=pg.host,
            port=pg.port,
            dbname=pg.dbname,
            user=pg.user,
            password=pg.password,
            connect_timeout=pg.connect_timeout_s,
        ).close()
    except psycopg.OperationalError as error:
        text = str(error)
        if f'database "{pg.dbname}" does not exist' in text:
            return (
                f"database {pg.dbname} does not exist; create it with "
                f"createdb -h {pg.host} -p {pg.port} -U {pg.user} {pg.dbname}"
            )
        reason = text.rpartition(" failed: ")[2].splitlines()[0].removeprefix("FATAL:").strip()
        return (
            f"cannot connect to PostgreSQL at {pg.host}:{pg.port} as {pg.user} "
            f"(SSBTEK_POSTGRES_HOST, _PORT, _USER, _PASSWORD): {reason}"
        )
    return None
