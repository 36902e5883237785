from __future__ import annotations

import urllib.request

from prometheus_client import CollectorRegistry, generate_latest

from adapters.metrics.prometheus import PrometheusMetrics, serve_metrics
from adapters.metrics.rate_limit import MovingWindowPerOrganisation


def test_queries_calls_errors_and_a_scrape_time_gauge_are_exported() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry)
    metrics.query_finished("ANSWERED", 0.8, "GRPC")
    metrics.query_finished("CASEWORKER_REVOKED", 0.01, "SOAP_V10")
    metrics.call_finished("CSN", "ERROR", "SSBT", 5.6)
    metrics.call_finished("CSN", "ANSWERED", None, 0.1)
    metrics.call_finished("CSN", "ANSWERED", None, 0.2)  # the same labels again
    open_incidents = {"CRITICAL": 1.0, "LOW": 2.0}
    metrics.gauge_per_label(
        "ssbtek_open_incidents", "Open incidents.", "priority", lambda: open_incidents
    )
    text = generate_latest(registry).decode()
    assert 'ssbtek_queries_total{entry_point="GRPC",outcome="ANSWERED"} 1.0' in text
    assert 'ssbtek_queries_total{entry_point="SOAP_V10",outcome="CASEWORKER_REVOKED"} 1.0' in text
    assert 'ssbtek_provider_errors_total{provider="CSN",source="SSBT"} 1.0' in text
    assert 'ssbtek_provider_calls_total{outcome="ANSWERED",provider="CSN"} 2.0' in text
    assert 'ssbtek_provider_calls_total{outcome="ERROR",provider="CSN"} 1.0' in text
    assert 'ssbtek_provider_call_duration_seconds_count{provider="CSN"} 3.0' in text
    assert 'ssbtek_query_duration_seconds_bucket{le="1.0"} 1.0' in text
    assert 'ssbtek_open_incidents{priority="LOW"} 2.0' in text
    open_incidents["LOW"] = 0.0
    assert 'ssbtek_open_incidents{priority="LOW"} 0.0' in generate_latest(registry).decode()


def test_the_metrics_endpoint_serves_the_registry_over_http() -> None:
    registry = CollectorRegistry()
    PrometheusMetrics(registry).query_finished("ANSWERED", 0.2, "GRPC")
    port = serve_metrics(registry, "127.0.0.1:0")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert b'ssbtek_queries_total{entry_point="GRPC",outcome="ANSWERED"} 1.0' in response.read()


def test_the_rate_limit_is_per_organisation() -> None:
    limiter = MovingWindowPerOrganisation("2/minute")
    assert [limiter.admit("2120000142") for _ in range(3)] == [True, True, False]
    assert limiter.admit("2120001116")


def test_a_refused_organisation_is_told_when_its_oldest_query_leaves_the_window() -> None:
    limiter = MovingWindowPerOrganisation("2/minute")
    assert [limiter.admit("2120000142") for _ in range(3)] == [True, True, False]
    wait = limiter.retry_after_s("2120000142")
    assert 55 < wait <= 60  # a minute from the first of the two, not one second
