"""The jobs the server schedules: following the queries and checking the deadlines."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from domain.incident.conditions import Condition
from domain.incident.service_levels import DeadlineKind
from domain.providers import STOCKHOLM
from infrastructure.composition import build_queries, build_service_management
from infrastructure.settings import Settings, Store
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock, fake_base_services
from tests.service_management_support import query_command


async def eventually(check: Callable[[], bool]) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the scheduled jobs did not get there in 5 s")


async def test_the_scheduled_jobs_open_the_automatic_incident_and_record_its_breach(
    tmp_path: Path,
) -> None:
    """Bilaga 4 § 3.8 and § 3.3.3: with the jobs running, a disturbance gets an incident (one
    provider timing out: high, 60 minutes to respond), and its response deadline is recorded as
    breached once the clock passes it."""
    settings = Settings(
        store=Store.MEMORY, data_dir=tmp_path, pseudonym_key_hex=TEST_KEY, budget_fraction=0.05
    )
    clock = FakeClock(dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM))
    services = fake_base_services(csn="hang", skatteverket="unreachable")
    queries = build_queries(settings, base_services=services, clock=clock)
    management = build_service_management(settings, clock=clock, queries=queries)
    stop = asyncio.Event()
    jobs = asyncio.create_task(management.run(stop, follow_interval_s=0.01, breach_interval_s=0.01))
    try:
        await queries.submit(query_command())
        await eventually(lambda: bool(management.incidents.list_incidents()))
        (incident,) = management.incidents.list_incidents()
        assert incident.condition is Condition.PROVIDERS_UNAVAILABLE
        clock.advance(dt.timedelta(minutes=61))
        await eventually(lambda: bool(management.incidents.get_incident(incident.id).breaches))
        breaches = management.incidents.get_incident(incident.id).breaches
        assert [b.kind for b in breaches] == [DeadlineKind.RESPONSE]
    finally:
        stop.set()
        await asyncio.wait_for(jobs, timeout=5)
        management.close()
        queries.close()
