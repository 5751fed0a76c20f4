"""Prometheus metrics (``prometheus_client``): GraphQL operations, errors, HTTP requests,
MongoDB commands and DataLoader batches, on a registry of the app's own.

With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, before
start): every worker writes its samples there and ``/metrics`` serves the sum of all workers.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from pymongo import monitoring

from gateway.observability.requests import count_mongo_command

# No `_created` series next to every counter and histogram.
disable_created_metrics()  # type: ignore[no-untyped-call]

_OPERATION_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,99}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MONGO_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LAG_INTERVAL = 0.1
"""Seconds the event-loop watcher sleeps between two measures."""
KNOWN_ROUTES = ("/graphql", "/healthz", "/readyz", "/metrics")
REST_PREFIX = "/power-scheduler/v1/"


@dataclass
class OperationLabels:
    """Client-chosen operation names as metric labels, bounded: past ``limit`` distinct names,
    new ones count as ``other``; names that are not GraphQL names count as ``invalid``."""

    limit: int = 500
    _seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not _OPERATION_NAME.match(name):
            return "invalid"
        with self._lock:
            if name in self._seen:
                return name
            if len(self._seen) >= self.limit:
                return "other"
            self._seen.add(name)
            return name


MAX_KEPT_CHILDREN = 10_000
"""Label combinations :class:`Children` keeps per metric (the metrics' labels are bounded)."""


class Children:
    """The labelled children of one metric, each looked up once: ``labels()`` validates its
    values and takes a lock on every call. Safe from any thread (a race only looks up twice)."""

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self.kept: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self.kept.get(values)
        if child is None:
            child = self.metric.labels(*values)
            if len(self.kept) < MAX_KEPT_CHILDREN:
                self.kept[values] = child
        return child


class GatewayMetrics:
    """Every metric of one app; ``render()`` is the ``/metrics`` body."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.operation_label = OperationLabels()
        r = self.registry
        self.graphql_requests = Counter(
            "gateway_graphql_requests",
            "GraphQL requests by operation name and outcome "
            "(ok, error: answered with errors, rejected: not executed).",
            ["operation", "outcome"],
            registry=r,
        )
        self.graphql_duration = Histogram(
            "gateway_graphql_request_duration_seconds",
            "Time to answer a GraphQL request.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.graphql_errors = Counter(
            "gateway_graphql_errors",
            "GraphQL errors sent to clients, by extensions.code.",
            ["code"],
            registry=r,
        )
        self.compiled_executions = Counter(
            "gateway_compiled_executions",
            "GraphQL operations by how they ran: compiled (from a plan), fallback (a plan "
            "started, then standard execution answered), standard (not compiled).",
            ["outcome"],
            registry=r,
        )
        self._compiled_outcomes = {
            outcome: self.compiled_executions.labels(outcome)
            for outcome in ("compiled", "fallback", "standard")
        }
        self.http_requests = Counter(
            "gateway_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "gateway_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.mongo_commands = Counter(
            "gateway_mongodb_commands",
            "MongoDB commands sent, by command name and outcome.",
            ["command", "outcome"],
            registry=r,
        )
        self.mongo_duration = Histogram(
            "gateway_mongodb_command_duration_seconds",
            "MongoDB command latency as the driver measured it.",
            ["command"],
            buckets=MONGO_BUCKETS,
            registry=r,
        )
        self.loader_batch = Histogram(
            "gateway_dataloader_batch_size",
            "Keys per DataLoader batch (one query each).",
            ["loader"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.command_slot_wait = Histogram(
            "gateway_command_slot_wait_seconds",
            "Time a MongoDB command waited for a slot of its "
            "domain's bulkhead (only commands that had to wait), by whether it then got one.",
            ["outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.command_slot_refusals = Counter(
            "gateway_command_slot_refusals",
            "MongoDB commands that gave up waiting for a slot "
            "of their domain (the request refused with RATE_LIMITED, or past its deadline).",
            registry=r,
        )
        self.event_loop_lag = Histogram(
            "gateway_event_loop_lag_seconds",
            f"How late a {LAG_INTERVAL * 1000:.0f} ms sleep of "
            "the event loop wakes up: the time every request of the process waited for the loop.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.event_loop_lag_last = Gauge(
            "gateway_event_loop_lag_last_seconds",
            "The latest event-loop lag measured.",
            registry=r,
            multiprocess_mode="max",
        )
        self.command_listener = MongoCommandMetrics(self)
        self.graphql_requests_by = Children(self.graphql_requests)
        self.graphql_duration_by = Children(self.graphql_duration)
        self.graphql_errors_by = Children(self.graphql_errors)
        self.http_requests_by = Children(self.http_requests)
        self.http_duration_by = Children(self.http_duration)
        self.mongo_commands_by = Children(self.mongo_commands)
        self.mongo_duration_by = Children(self.mongo_duration)
        self.loader_batch_by = Children(self.loader_batch)
        self.command_slot_wait_by = Children(self.command_slot_wait)

    def observe_operation(self, name: str | None, outcome: str, seconds: float, codes: list[str]) -> None:
        label = self.operation_label(name)
        self.graphql_requests_by(label, outcome).inc()
        self.graphql_duration_by(label).observe(seconds)
        for code in codes:
            self.graphql_errors_by(code).inc()

    def observe_compiled(self, outcome: str) -> None:
        self._compiled_outcomes[outcome].inc()

    def observe_http(self, method: str, path: str, status: int, seconds: float) -> None:
        route = path if path in KNOWN_ROUTES or path.startswith(REST_PREFIX) else "other"
        if route.startswith(REST_PREFIX) and route.rstrip("/").rsplit("/", 1)[-1] not in (
            "jobs",
            "search",
            "stat",
        ):
            route = "other"
        self.http_requests_by(route, method, str(status)).inc()
        self.http_duration_by(route).observe(seconds)

    def observe_command_slot_wait(self, seconds: float, got_slot: bool) -> None:
        self.command_slot_wait_by("granted" if got_slot else "refused").observe(seconds)
        if not got_slot:
            self.command_slot_refusals.inc()

    def observe_loop_lag(self, seconds: float) -> None:
        self.event_loop_lag.observe(seconds)
        self.event_loop_lag_last.set(seconds)

    def observe_batch(self, loader: str, size: int) -> None:
        self.loader_batch_by(loader).observe(size)

    def watch_live(self, stats: Any, subscriptions: Callable[[], int]) -> None:
        """Live-update figures, read at each scrape from the hub's counters."""
        self.registry.register(_LiveCollector(stats, subscriptions))

    def render(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


async def watch_event_loop(metrics: GatewayMetrics, interval: float = LAG_INTERVAL) -> None:
    """Until cancelled: sleep ``interval`` and record how much later than asked the loop woke
    (a request that holds the loop shows here, whatever it was doing)."""
    while True:
        start = time.perf_counter()
        await asyncio.sleep(interval)
        metrics.observe_loop_lag(max(0.0, time.perf_counter() - start - interval))


class _LiveCollector:
    def __init__(self, stats: Any, subscriptions: Callable[[], int]) -> None:
        self._stats = stats
        self._subscriptions = subscriptions

    def collect(self) -> Iterator[Metric]:
        stats = self._stats
        yield GaugeMetricFamily(
            "gateway_live_subscriptions",
            "Open subscriptions (jobUpdated and jobsChanged).",
            value=self._subscriptions(),
        )
        for name, help_text, value in (
            ("gateway_live_changes_received", "Job changes read from the change feed.", stats.received),
            ("gateway_live_events_delivered", "Events handed to subscribers.", stats.delivered),
            (
                "gateway_live_events_executed",
                "Events executed (once per group of identical subscriptions).",
                stats.executed,
            ),
            (
                "gateway_live_slow_consumer_closes",
                "Subscriptions ended with SLOW_CONSUMER.",
                stats.slow_consumers,
            ),
            (
                "gateway_live_feed_restarts",
                "Change stream reopenings (outage or lost history).",
                stats.feed_restarts,
            ),
            ("gateway_live_batches", "Batches of changes matched and fanned out.", stats.batches),
        ):
            yield CounterMetricFamily(name, help_text, value=value)
        mode = GaugeMetricFamily("gateway_live_feed_mode", "The change source in use.", labels=["mode"])
        mode.add_metric([stats.mode], 1)
        yield mode


class MongoCommandMetrics(monitoring.CommandListener):
    """Counts and times every command the driver sends, and counts it for the current request."""

    _IGNORED = frozenset({"hello", "ismaster", "isMaster", "endSessions"})

    def __init__(self, metrics: GatewayMetrics) -> None:
        self._metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in self._IGNORED:
            count_mongo_command()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._record(event.command_name, "ok", event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._record(event.command_name, "failed", event.duration_micros)

    def _record(self, command: str, outcome: str, micros: int) -> None:
        if command in self._IGNORED:
            return
        self._metrics.mongo_commands_by(command, outcome).inc()
        self._metrics.mongo_duration_by(command).observe(micros / 1_000_000)
