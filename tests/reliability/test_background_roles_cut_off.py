"""The node holding the background roles loses its database (a network that stops
answering, through a proxy cut like a pulled cable): it gives the roles up before the other
node takes them over, and the other node, until then, read no history at start-up.

A private PostgreSQL cluster logs every statement with the client's application name
(``PGAPPNAME``), so the test sees what each node asked: the node that does not hold the
roles reads no notification log when it starts, and does once it has taken them over."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest

from infrastructure.settings import PostgresSettings
from tests.e2e.test_two_nodes import TAKEN, ask, followed, node, node_env, until
from tests.reliability.private_postgres import PrivatePostgres
from tests.reliability.tcp_proxy import BreakableProxy

pytestmark = pytest.mark.e2e

PORT = 55440  # this test's private cluster (issue 20's range 55440-55449)
LEASE_S = 4.0
LOST = "background roles lost"
READS_A_LOG = re.compile(r"SELECT \* FROM \S+_events\"? WHERE notification_id ?>")
"""The library's ``select_notifications``: reading a notification log from a position."""


class LoggingPostgres(PrivatePostgres):
    """Logs every statement, each line prefixed with the client's application name."""

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c log_statement=all -c log_line_prefix='%a|'",
            "-l",
            str(self.log),
            "-w",
            "start",
        )

    @property
    def log(self) -> Path:
        return self.directory / "log"

    def statements(self, application: str) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if line.startswith(f"{application}|")]


@pytest.mark.timeout(180)
def test_a_holder_cut_off_from_the_database_gives_the_roles_up_before_the_other_takes_them(
    tmp_path: Path,
) -> None:
    home = Path(tempfile.mkdtemp(prefix="ssbtek-pg-"))  # a path the postgres user can reach
    cluster = LoggingPostgres(home / "cluster")
    cluster.port = PORT
    cluster.initialise()
    cluster.start()
    proxy = BreakableProxy(PORT)
    try:
        cluster.create_database("ssbtek")
        database = PostgresSettings(host="127.0.0.1", port=PORT, user="postgres", dbname="ssbtek")
        lease = {"SSBTEK_ROLES_LEASE": str(LEASE_S)}
        cut_off = node_env(
            database, tmp_path, SSBTEK_POSTGRES_PORT=str(proxy.port), PGAPPNAME="cut", **lease
        )
        other = node_env(database, tmp_path, PGAPPNAME="other", **lease)
        cut_log, other_log = tmp_path / "cut.log", tmp_path / "other.log"
        with node(cut_off, cut_log) as (cut_port, holder):
            until(lambda: TAKEN in cut_log.read_text(), 10, cut_log)
            ask(cut_port)
            until(lambda: followed(database), 20, cut_log)
            with node(other, other_log):
                started = cluster.statements("other")
                assert started
                assert not [s for s in started if READS_A_LOG.search(s)], started
                proxy.cut()
                until(lambda: LOST in cut_log.read_text(), LEASE_S, cut_log)
                assert TAKEN not in other_log.read_text()  # it gave them up first
                until(lambda: TAKEN in other_log.read_text(), 2 * LEASE_S, other_log)
                holder.kill()
                until(lambda: followed(database), 20, other_log)
            after = cluster.statements("other")
        assert [s for s in after if READS_A_LOG.search(s)]  # the same check sees the reading
    finally:
        proxy.close()
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)
