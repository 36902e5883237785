"""Prometheus metrics for operators: queries by outcome, latencies, provider errors.

Labels are outcome codes and provider names: never anything personal (ADR 4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

_QUERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 7, 8.5, 12, 13.5, 20.5, 25.5, 30)
_CALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20)


class PrometheusMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._queries = Counter(
            "ssbtek_queries",
            "Queries by outcome (ANSWERED: handed over; CANCELLED or DEADLINE_EXCEEDED: the "
            "caller went away first; or a refusal reason) and entry point (GRPC, SOAP_V10).",
            ["outcome", "entry_point"],
            registry=registry,
        )
        self._query_seconds = Histogram(
            "ssbtek_query_duration_seconds",
            "Time from receipt to the compiled answer.",
            buckets=_QUERY_BUCKETS,
            registry=registry,
        )
        self._calls = Counter(
            "ssbtek_provider_calls",
            "Provider calls by outcome.",
            ["provider", "outcome"],
            registry=registry,
        )
        self._errors = Counter(
            "ssbtek_provider_errors",
            "Failed provider calls by error source (SSBT: this service; BT: the base service).",
            ["provider", "source"],
            registry=registry,
        )
        self._call_seconds = Histogram(
            "ssbtek_provider_call_duration_seconds",
            "Provider call latency.",
            ["provider"],
            buckets=_CALL_BUCKETS,
            registry=registry,
        )
        self._soap_requests = Counter(
            "ssbtek_soap_requests",
            "Calls to the v10 SOAP facade by operation and outcome (OK or the fault's felkod).",
            ["operation", "outcome"],
            registry=registry,
        )
        self._callers_refused = Counter(
            "ssbtek_callers_refused",
            "Calls refused UNAUTHENTICATED before any handler ran, by reason: the client "
            "certificate proves no organisation, or it is revoked (ADR 24, 25).",
            ["reason"],
            registry=registry,
        )
        self._refusals = Counter(
            "ssbtek_admission_refusals",
            "Queries refused by admission control before any work (ADR 26), by the limit that "
            "refused them (SERVICE_LIMIT, ORGANISATION_SHARE) and entry point; each is also "
            "in ssbtek_queries_total as TOO_MANY_QUERIES_IN_FLIGHT.",
            ["reason", "entry_point"],
            registry=registry,
        )
        self._call_children: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        """The labelled children of each provider and outcome, looked up once: ``labels()``
        costs more than the count itself, eight times per query (the benchmark profile)."""

    def query_finished(self, outcome: str, seconds: float, entry_point: str) -> None:
        self._queries.labels(outcome, entry_point).inc()
        if outcome == "ANSWERED":
            self._query_seconds.observe(seconds)

    def call_finished(
        self, provider: str, outcome: str, error_source: str | None, seconds: float
    ) -> None:
        children = self._call_children.get((provider, outcome))
        if children is None:
            children = (self._calls.labels(provider, outcome), self._call_seconds.labels(provider))
            self._call_children[(provider, outcome)] = children
        calls, call_seconds = children
        calls.inc()
        call_seconds.observe(seconds)
        if error_source is not None:
            self._errors.labels(provider, error_source).inc()

    def admission_refused(self, quota: str, entry_point: str) -> None:
        self._refusals.labels(quota, entry_point).inc()
        self.query_finished("TOO_MANY_QUERIES_IN_FLIGHT", 0.0, entry_point)

    def admission_gauges(self, in_progress: Callable[[], int], limit: Callable[[], int]) -> None:
        """Queries in progress and the current adaptive limit, read at scrape time."""
        Gauge(
            "ssbtek_queries_in_progress",
            "Queries admitted and not yet ended (gRPC and SOAP together).",
            registry=self.registry,
        ).set_function(in_progress)
        Gauge(
            "ssbtek_admission_limit",
            "The adaptive limit of queries in progress now (ADR 26); never above "
            "SSBTEK_MAX_IN_FLIGHT.",
            registry=self.registry,
        ).set_function(limit)

    def soap_request_finished(self, operation: str, outcome: str, seconds: float) -> None:
        """One call to the SOAP facade ended; its queries are also in ``ssbtek_queries``."""
        self._soap_requests.labels(operation, outcome).inc()

    def caller_refused(self, reason: str) -> None:
        self._callers_refused.labels(reason).inc()

    def gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge without labels read at scrape time, e.g. days until a certificate expires."""
        self.registry.register(_ReadAtScrape(name, documentation, "", lambda: {"": read()}))

    def gauge_per_label(
        self, name: str, documentation: str, label: str, read: Callable[[], Mapping[str, float]]
    ) -> None:
        """A gauge read at scrape time, e.g. open incidents by priority."""
        self.registry.register(_ReadAtScrape(name, documentation, label, read))


class _ReadAtScrape(Collector):
    """prometheus_client's custom-collector way to report values that live elsewhere."""

    def __init__(
        self, name: str, documentation: str, label: str, read: Callable[[], Mapping[str, float]]
    ) -> None:
        self._name, self._documentation, self._label, self._read = name, documentation, label, read

    def collect(self) -> Iterator[Metric]:
        if not self._label:
            yield GaugeMetricFamily(self._name, self._documentation, value=self._read()[""])
            return
        family = GaugeMetricFamily(self._name, self._documentation, labels=[self._label])
        for value_label, value in self._read().items():
            family.add_metric([value_label], value)
        yield family


def serve_metrics(registry: CollectorRegistry, address: str) -> int:
    """Serve ``/metrics`` on ``host:port`` in a background thread; returns the bound port."""
    host, _, port = address.rpartition(":")
    server, _thread = start_http_server(int(port), addr=host or "127.0.0.1", registry=registry)
    return int(server.server_port)
