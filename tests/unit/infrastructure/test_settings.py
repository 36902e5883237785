from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import attrs
import pydantic
import pytest

from domain.providers import Provider
from infrastructure.cli import main
from infrastructure.settings import (
    LogFormat,
    LogLevel,
    Mode,
    Settings,
    SettingsError,
    Store,
    check,
    from_environ,
    unknown_variables,
)
from infrastructure.stores import persistence_env
from infrastructure.variables import HostPort, Switch, group, schema, variable

ROOT = Path(__file__).resolve().parents[3]
SECRET = "hunter2-do-not-show"


def problems(environ: dict[str, str]) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as refused:
        from_environ(environ)
    return refused.value.lines


def test_an_empty_environment_gives_the_embedded_defaults() -> None:
    settings = from_environ({})
    assert settings == Settings()
    assert settings.store is Store.SQLITE
    assert settings.data_dir == Path("var")
    assert settings.listen == "127.0.0.1:50051"
    assert settings.audit.seal_interval_s == 60.0
    assert settings.log_format is LogFormat.JSON
    assert not settings.tls
    assert not settings.production


def test_every_documented_variable_is_read() -> None:
    settings = from_environ(
        {
            "SSBTEK_STORE": "postgres",
            "SSBTEK_POSTGRES_DBNAME": "ssbtek_prod",
            "SSBTEK_POSTGRES_PORT": "6432",
            "SSBTEK_POSTGRES_PRE_PING": "y",
            "SSBTEK_RATE_LIMIT": "600/minute",
            "SSBTEK_ACCESS_DECISION_TTL": "0.25",
            "SSBTEK_MAX_IN_FLIGHT": "100",
            "SSBTEK_AUDIT_SEAL_INTERVAL": "5",
            "SSBTEK_AUDIT_AUDITORS": "212000-0142",
            "SSBTEK_AUDIT_TRUSTED_KEYS": "old.pub, older.pub",
            "SSBTEK_MODE": "production",
            "SSBTEK_PROVIDER_OPTIONS": "latency=sla,seed=3",
            "SSBTEK_SINGLETONS": "off",
            "SSBTEK_LOG_LEVEL": "debug",
            "SSBTEK_ADMINS": "202100-5521",
            "SSBTEK_PSEUDONYM_KEY": "ab" * 32,
        }
    )
    assert settings.store is Store.POSTGRES
    assert settings.postgres.dbname == "ssbtek_prod"
    assert settings.postgres.port == 6432
    assert settings.postgres.pre_ping
    assert settings.rate_limit == "600/minute"
    assert settings.access_decision_ttl_s == 0.25
    assert settings.max_in_flight == 100
    assert settings.audit.seal_interval_s == 5.0
    assert settings.audit.auditors == frozenset({"2120000142"})
    assert settings.audit.trusted_public_keys == (Path("old.pub"), Path("older.pub"))
    assert settings.production
    assert settings.mode is Mode.PRODUCTION
    assert settings.provider_options == {"latency": "sla", "seed": "3"}
    assert not settings.singletons
    assert settings.log_level is LogLevel.DEBUG
    assert settings.administrators == frozenset({"2021005521"})
    assert settings.pseudonym_key_hex == "ab" * 32


def test_empty_is_unset_except_where_empty_means_something() -> None:
    settings = from_environ(
        {"SSBTEK_RATE_LIMIT": "", "SSBTEK_METRICS_LISTEN": " ", "SSBTEK_MODE": "", "X": "y"}
    )
    assert settings.rate_limit == ""
    assert settings.metrics_listen == ""
    assert settings.mode is Mode.DEVELOPMENT


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("SSBTEK_MODE", "prod", "'development' or 'production'"),
        ("SSBTEK_STORE", "postgresql", "'memory', 'sqlite' or 'postgres'"),
        ("SSBTEK_LOG_FORMAT", "xml", "'json' or 'text'"),
        ("SSBTEK_LOG_LEVEL", "loud", "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
        ("SSBTEK_POSTGRES_PORT", "abc", "valid integer"),
        ("SSBTEK_POSTGRES_PORT", "70000", "less than or equal to 65535"),
        ("SSBTEK_POSTGRES_POOL_SIZE", "0", "greater than or equal to 1"),
        ("SSBTEK_POSTGRES_SCHEMA", "x; drop", "letters, digits and _"),
        ("SSBTEK_POSTGRES_HOST", "", ""),
        ("SSBTEK_MAX_IN_FLIGHT", "abc", "valid integer"),
        ("SSBTEK_MAX_IN_FLIGHT", "0", "greater than or equal to 1"),
        ("SSBTEK_ADMISSION_DELAY_TARGET", "0", "greater than 0"),
        ("SSBTEK_ADMISSION_DELAY_TARGET", "5", "less than or equal to 1"),
        ("SSBTEK_ADMISSION_DELAY_TARGET", "20ms", "valid number"),
        ("SSBTEK_BUDGET_FRACTION", "2", "less than or equal to 1"),
        ("SSBTEK_BUDGET_FRACTION", "0", "greater than 0"),
        ("SSBTEK_BUDGET_FRACTION", "nan", "finite number"),
        ("SSBTEK_RATE_LIMIT", "lots", "50/second, 600/minute"),
        ("SSBTEK_ACCESS_DECISION_TTL", "-1", "greater than or equal to 0"),
        ("SSBTEK_ACCESS_DECISION_TTL", "inf", "finite number"),
        ("SSBTEK_ACCESS_DECISION_TTL", "soon", "valid number"),
        ("SSBTEK_AUDIT_SEAL_INTERVAL", "0", "greater than 0"),
        ("SSBTEK_LISTEN", "50051", "host:port"),
        ("SSBTEK_LISTEN", "127.0.0.1:99999", "host:port"),
        ("SSBTEK_METRICS_LISTEN", "localhost", "host:port"),
        ("SSBTEK_SINGLETONS", "of", "on or off (also: yes/no, true/false, 1/0)"),
        ("SSBTEK_POSTGRES_PRE_PING", "maybe", "on or off"),
        ("SSBTEK_ADMINS", "212000-0143", "organisation numbers"),
        ("SSBTEK_AUDIT_AUDITORS", "SKR", "organisation numbers"),
        ("SSBTEK_PROVIDER_OPTIONS", "latency", "key=value"),
        ("SSBTEK_POSTGRES_ENABLE_DB_FUNCTIONS", "y", "per schema, not per table"),
        ("SSBTEK_POSTGRES_ENABLE_DB_FUNCTIONS", "perhaps", "on or off"),
    ],
)
def test_a_malformed_value_is_one_line_naming_the_variable_and_what_it_takes(
    name: str, value: str, allowed: str
) -> None:
    environ = {name: value}
    if name == "SSBTEK_POSTGRES_HOST":  # empty is unset; spaces alone are not a host either
        environ[name] = "\t"
        assert from_environ(environ).postgres.host == "127.0.0.1"
        return
    (line,) = problems(environ)
    assert line.startswith(f"{name}: ")
    assert allowed in line


def test_every_problem_is_reported_at_once() -> None:
    lines = problems(
        {
            "SSBTEK_MODE": "prod",
            "SSBTEK_POSTGRES_PORT": "abc",
            "SSBTEK_MAX_IN_FLIGHT": "abc",
            "SSBTEK_RATE_LIMIT": "lots",
            "SSBTEK_LOG_FORMAT": "xml",
            "SSBTEK_BUDGET_FRACTION": "2",
        }
    )
    assert sorted(line.partition(":")[0] for line in lines) == [
        "SSBTEK_BUDGET_FRACTION",
        "SSBTEK_LOG_FORMAT",
        "SSBTEK_MAX_IN_FLIGHT",
        "SSBTEK_MODE",
        "SSBTEK_POSTGRES_PORT",
        "SSBTEK_RATE_LIMIT",
    ]


@pytest.mark.parametrize(
    "name", ["SSBTEK_PSEUDONYM_KEY", "SSBTEK_AUDIT_SIGNING_KEY", "SSBTEK_POSTGRES_PASSWORD"]
)
def test_a_secret_is_never_shown(name: str) -> None:
    lines = problems({name: SECRET, "SSBTEK_MODE": "prod"})  # a password takes anything
    assert lines
    assert all(SECRET not in line for line in lines)
    if name != "SSBTEK_POSTGRES_PASSWORD":
        assert f"{name}: must be 64 hex digits" in "\n".join(lines)
    good = SECRET if name == "SSBTEK_POSTGRES_PASSWORD" else "ab" * 32
    assert good not in repr(from_environ({name: good}))


def test_an_unknown_ssbtek_variable_is_a_warning_naming_it() -> None:
    environ = {"SSBTEK_MODES": "production", "SSBTEK_STORE": "memory", "HOME": "/root"}
    (warning,) = unknown_variables(environ)
    assert warning.startswith("warning: SSBTEK_MODES is not a setting")
    assert "did you mean SSBTEK_MODE?" in warning
    assert from_environ(environ).mode is Mode.DEVELOPMENT


def test_an_option_over_a_variable_is_checked_and_named_as_the_option() -> None:
    settings = from_environ({"SSBTEK_STORE": "postgres"}, {"SSBTEK_STORE": "memory"})
    assert settings.store is Store.MEMORY
    with pytest.raises(SettingsError) as refused:
        from_environ({}, {"SSBTEK_LISTEN": "nowhere"})
    assert refused.value.lines[0].startswith("--listen, --port: must be host:port")


def test_the_tls_files_go_together_and_must_exist(tmp_path: Path) -> None:
    certificate = tmp_path / "server.pem"
    certificate.write_text("not a certificate: read and checked at start (ADR 25)")
    settings = from_environ({"SSBTEK_TLS_CERTIFICATE": str(certificate)})
    assert check(settings) == [
        "SSBTEK_TLS_PRIVATE_KEY: the three TLS files go together: set it too",
        "SSBTEK_TLS_CLIENT_CA: the three TLS files go together: set it too",
    ]
    missing = from_environ(
        {
            "SSBTEK_TLS_CERTIFICATE": str(certificate),
            "SSBTEK_TLS_PRIVATE_KEY": str(tmp_path / "server.key"),
            "SSBTEK_TLS_CLIENT_CA": str(certificate),
        }
    )
    assert check(missing) == [
        f"SSBTEK_TLS_CERTIFICATE: {certificate} is not a PEM certificate",
        f"SSBTEK_TLS_PRIVATE_KEY: no such file: {tmp_path / 'server.key'}",
        f"SSBTEK_TLS_CLIENT_CA: {certificate} is not a PEM certificate",
    ]


def test_production_needs_mutual_tls_the_seal_key_and_the_pseudonym_key() -> None:
    lines = check(from_environ({"SSBTEK_MODE": "production"}))
    named = [line.partition(":")[0] for line in lines]
    assert named == [
        "SSBTEK_TLS_CERTIFICATE",
        "SSBTEK_TLS_PRIVATE_KEY",
        "SSBTEK_TLS_CLIENT_CA",
        "SSBTEK_AUDIT_SIGNING_KEY_FILE",
        "SSBTEK_PSEUDONYM_KEY",
    ]
    assert check(from_environ({"SSBTEK_MODE": "development"})) == []


def test_a_key_file_must_hold_a_key(tmp_path: Path) -> None:
    key = tmp_path / "seal.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    lines = check(from_environ({"SSBTEK_AUDIT_SIGNING_KEY_FILE": str(key)}))
    assert lines == [
        f"SSBTEK_AUDIT_SIGNING_KEY_FILE: {key}: not a readable, unencrypted PEM private key"
    ]
    assert "broken" not in lines[0]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("error_rate=2", "error_rate: needs a number from 0 to 1"),
        ("latency=bogus", "latency: must be none, demo, sla, fixed:<seconds> or lognormal"),
        ("error_rate=0.6,hang_rate=0.6", "must add up to 1 at most"),
        ("error_rate=0.6,CSN.hang_rate=0.6", "must add up to 1 at most for CSN"),
        ("latncy=sla", "latncy: unknown option for the simulated providers; known: latency"),
        ("KSN.latency=sla", "KSN.latency: names no provider; known: ARBETSFORMEDLINGEN"),
        ("seed=x", "seed: needs an integer"),
    ],
)
def test_provider_options_are_checked_before_the_start(options: str, expected: str) -> None:
    environ = {"SSBTEK_PROVIDER_OPTIONS": options}
    (line,) = check(from_environ(environ))
    assert line.startswith("SSBTEK_PROVIDER_OPTIONS: ")
    assert expected in line
    (line,) = check(from_environ({}, environ), environ)
    assert line.startswith("--provider-options: ")


def test_the_http_adapter_s_options_and_an_unknown_adapter_are_checked() -> None:
    lines = check(
        from_environ(
            {
                "SSBTEK_PROVIDERS": "http",
                "SSBTEK_PROVIDER_OPTIONS": "url=ftp://x,max_answer_bytes=-1,CSN.url=http://c:1",
            }
        )
    )
    assert lines == [
        "SSBTEK_PROVIDER_OPTIONS: url: needs an http:// or https:// URL with a host",
        "SSBTEK_PROVIDER_OPTIONS: max_answer_bytes: needs a whole number, 1 or more",
    ]
    (line,) = check(from_environ({"SSBTEK_PROVIDERS": "acme"}))
    assert (
        line
        == "SSBTEK_PROVIDERS: no base-service adapter named 'acme'; installed: http, simulated, v10"
    )


@pytest.mark.parametrize("store", [Store.SQLITE, Store.POSTGRES])
def test_a_prepared_store_is_opened_without_creating_tables(store: Store, tmp_path: Path) -> None:
    """``ssbtek serve --workers N`` workers open what ``prepare`` created (no DDL race)."""
    settings = Settings(store=store, data_dir=tmp_path)
    assert persistence_env(settings, "queries")["CREATE_TABLE"] == "y"
    opened = attrs.evolve(settings, create_tables=False)
    assert persistence_env(opened, "queries")["CREATE_TABLE"] == "n"


def test_the_readme_table_is_the_one_the_settings_declare() -> None:
    """``make config-docs`` writes it; this fails when the README and the model differ."""
    readme = (ROOT / "README.md").read_text()
    found = re.search(
        r"<!-- settings table.*?-->\n(.*?)<!-- end of settings table -->", readme, re.S
    )
    assert found, "README.md has the generated settings table"
    assert found.group(1) == schema(Settings).markdown()
    for name in schema(Settings).names:
        assert f"`{name}`" in found.group(1)


# -- adding a variable is one attribute -----------------------------------------------------


@attrs.frozen
class _Soap:
    listen: HostPort = variable("127.0.0.1:8080", "where SOAP listens")


@attrs.frozen
class _Extended:
    verbose: Switch = variable(False, "say more")
    ratio: Annotated[float, pydantic.Field(gt=0, le=1)] = variable(0.5, "a share")
    soap: _Soap = group(_Soap)
    not_a_variable: int = 3


def test_one_declared_attribute_is_a_read_checked_and_documented_variable() -> None:
    extended = schema(_Extended)
    assert extended.names == {"SSBTEK_VERBOSE", "SSBTEK_RATIO", "SSBTEK_SOAP_LISTEN"}
    read = extended.read({"SSBTEK_SOAP_LISTEN": "0.0.0.0:80", "SSBTEK_VERBOSE": "on"}, options={})
    assert read == _Extended(verbose=True, soap=_Soap("0.0.0.0:80"))
    with pytest.raises(SettingsError) as refused:
        extended.read({"SSBTEK_SOAP_LISTEN": "80", "SSBTEK_RATIO": "3"}, options={})
    assert [line.partition(":")[0] for line in refused.value.lines] == [
        "SSBTEK_RATIO",
        "SSBTEK_SOAP_LISTEN",
    ]
    assert "| `SSBTEK_SOAP_LISTEN` |  | `127.0.0.1:8080` | host:port | where SOAP listens |" in (
        extended.markdown()
    )


def test_the_provider_bulkheads_and_breakers_are_read_and_sized() -> None:
    guards = from_environ(
        {
            "SSBTEK_PROVIDER_PEAK_RATE": "10",
            "SSBTEK_PROVIDER_SHARES": "csn=0.5, TRANSPORTSTYRELSEN=3",
            "SSBTEK_BREAKER_FAILURES": "3",
            "SSBTEK_BREAKER_COOL_DOWN": "2.5",
        }
    ).provider_guards
    assert (guards.failures_to_open, guards.cool_down_s) == (3, 2.5)
    hold = attrs.evolve(guards, hold_s=5.6)
    assert hold.limit(Provider.TRANSPORTSTYRELSEN) == 168  # 10/s x 3 x 5.6 s
    assert hold.limit(Provider.CSN) == 28
    assert hold.limit(Provider.SKATTEVERKET) == 56


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SSBTEK_PROVIDER_PEAK_RATE", "0"),
        ("SSBTEK_PROVIDER_PEAK_RATE", "many"),
        ("SSBTEK_PROVIDER_SHARES", "CSN"),
        ("SSBTEK_PROVIDER_SHARES", "POSTEN=1"),
        ("SSBTEK_PROVIDER_SHARES", "CSN=-1"),
        ("SSBTEK_BREAKER_FAILURES", "2.5"),
        ("SSBTEK_BREAKER_COOL_DOWN", "inf"),
    ],
)
def test_a_malformed_guard_setting_is_refused_with_its_name(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        from_environ({name: value})


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
    assert capsys.readouterr().err.startswith(
        "ssbtek: SSBTEK_SOAP_LISTEN: must be host:port, port 0 to 65535"
    )
