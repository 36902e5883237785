from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from infrastructure.cli import main
from infrastructure.settings import Settings, Store, from_environ
from infrastructure.stores import persistence_env


def test_an_empty_environment_gives_the_embedded_defaults() -> None:
    settings = from_environ({})
    assert settings.store is Store.SQLITE
    assert settings.data_dir == Path("var")
    assert settings.listen == "127.0.0.1:50051"
    assert settings.audit.seal_interval_s == 60.0
    assert not settings.tls
    assert not settings.production


def test_every_documented_variable_is_read() -> None:
    settings = from_environ(
        {
            "SSBTEK_STORE": "postgres",
            "SSBTEK_POSTGRES_DBNAME": "ssbtek_prod",
            "SSBTEK_POSTGRES_PRE_PING": "n",
            "SSBTEK_RATE_LIMIT": "600/minute",
            "SSBTEK_ACCESS_DECISION_TTL": "0.25",
            "SSBTEK_MAX_IN_FLIGHT": "100",
            "SSBTEK_AUDIT_SEAL_INTERVAL": "5",
            "SSBTEK_AUDIT_AUDITORS": "212000-0142",
            "SSBTEK_MODE": "production",
            "SSBTEK_PROVIDER_OPTIONS": "latency=sla,seed=3",
            "SSBTEK_SINGLETONS": "off",
        }
    )
    assert settings.store is Store.POSTGRES
    assert settings.postgres.dbname == "ssbtek_prod"
    assert not settings.postgres.pre_ping
    assert settings.rate_limit == "600/minute"
    assert settings.access_decision_ttl_s == 0.25
    assert settings.max_in_flight == 100
    assert settings.audit.seal_interval_s == 5.0
    assert settings.audit.auditors == frozenset({"2120000142"})
    assert settings.production
    assert settings.provider_options == {"latency": "sla", "seed": "3"}
    assert not settings.singletons


def test_a_malformed_value_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="key=value"):
        from_environ({"SSBTEK_PROVIDER_OPTIONS": "latency"})


@pytest.mark.parametrize("value", ["of", "maybe", "2"])
def test_a_switch_is_on_or_off_and_nothing_else(value: str) -> None:
    """A typo must not quietly turn a switch off (``SSBTEK_SINGLETONS=of``)."""
    with pytest.raises(ValueError, match="SSBTEK_SINGLETONS must be on or off"):
        from_environ({"SSBTEK_SINGLETONS": value})
    assert from_environ({"SSBTEK_SINGLETONS": " ON "}).singletons
    assert from_environ({}).singletons


@pytest.mark.parametrize("value", ["-1", "soon", "inf"])
def test_an_access_decision_ttl_must_be_seconds(value: str) -> None:
    with pytest.raises(ValueError, match="SSBTEK_ACCESS_DECISION_TTL"):
        from_environ({"SSBTEK_ACCESS_DECISION_TTL": value})


def test_the_event_store_s_db_functions_are_refused_with_the_reason() -> None:
    """tests/integration/test_event_store_db_functions.py shows the library's behaviour."""
    with pytest.raises(ValueError, match="per schema, not per table"):
        from_environ({"SSBTEK_POSTGRES_ENABLE_DB_FUNCTIONS": "y"})
    assert from_environ({"SSBTEK_POSTGRES_ENABLE_DB_FUNCTIONS": "n"}).store is Store.SQLITE


@pytest.mark.parametrize("store", [Store.SQLITE, Store.POSTGRES])
def test_a_prepared_store_is_opened_without_creating_tables(store: Store, tmp_path: Path) -> None:
    """``ssbtek serve --workers N`` workers open what ``prepare`` created (no DDL race)."""
    settings = Settings(store=store, data_dir=tmp_path)
    assert persistence_env(settings, "queries")["CREATE_TABLE"] == "y"
    opened = attrs.evolve(settings, create_tables=False)
    assert persistence_env(opened, "queries")["CREATE_TABLE"] == "n"


def test_ssbtek_serve_refuses_a_malformed_variable_with_its_name_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SSBTEK_SINGLETONS", "of")
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "0"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        "ssbtek: SSBTEK_SINGLETONS must be on or off (also: yes/no, true/false, 1/0)\n"
    )


def test_the_soap_facade_listens_only_where_ssbtek_soap_listen_says() -> None:
    assert from_environ({}).soap_listen == ""
    assert from_environ({"SSBTEK_SOAP_LISTEN": "0.0.0.0:8443"}).soap_listen == "0.0.0.0:8443"


@pytest.mark.parametrize("value", ["8088", "localhost:", ":8088", "127.0.0.1:http", "h:70000"])
def test_ssbtek_serve_refuses_a_malformed_soap_address_with_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    monkeypatch.setenv("SSBTEK_SOAP_LISTEN", value)
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "0"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        "ssbtek: SSBTEK_SOAP_LISTEN must be host:port, e.g. 127.0.0.1:8088\n"
    )
