"""Whether the configured PostgreSQL database can be reached, as one line for a person.

``ssbtek serve --store postgres`` and the audit commands ask this before they open a store,
so a database that does not exist or a server that is down is one clear line, not a pool
retrying for seconds and a traceback. The line never holds the password.
"""

from __future__ import annotations

from infrastructure.settings import PostgresSettings


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
