"""/metrics, request ids, the one-line JSON request log, and operation spans."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pythonjsonlogger.json import JsonFormatter

from gateway.app import create_app
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN
from tests.wire import WireServer

PAGE = (
    'query Page($limit: Int!) { jobs(domainId: "%s", query: {page: {limit: $limit}}) '
    "{ totalCount results { jobId errors { errorCode } } } }" % DOMAIN
)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture(scope="module")
def tracer_exporter() -> Any:
    """The process's tracer provider (set once: OpenTelemetry refuses to replace it) with an
    in-memory exporter."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


@pytest.fixture
def exporter(tracer_exporter: Any) -> Any:
    tracer_exporter.clear()
    return tracer_exporter


@pytest.fixture
async def wire_http(wire_server: WireServer, wire_db: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its own Motor client (and so its own command listener) on the wire server."""
    settings = Settings(mongodb_uri=wire_server.uri, mongodb_database=wire_db.name)
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as http:
        yield http
    await app.state.mongo.close()


async def test_metrics_count_operations_commands_and_batches(
    wire_http: httpx.AsyncClient, wire_db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = [factories.job(DOMAIN, errors=[factories.error("E_X")] * (i % 2)) for i in range(5)]
    await wire_db["job"].insert_many(jobs)
    caplog.set_level(logging.INFO, logger="gateway.request")

    ok = await wire_http.post(
        "/graphql", json={"query": PAGE, "variables": {"limit": 3}, "operationName": "Page"}
    )
    assert "errors" not in ok.json()
    bad = await wire_http.post("/graphql", json={"query": "{ nope }"})
    assert bad.status_code == 400

    scraped = await wire_http.get("/metrics")
    assert scraped.headers["content-type"].startswith("text/plain")
    values = samples(scraped.text)
    assert values[("gateway_graphql_requests_total", (("operation", "Page"), ("outcome", "ok")))] == 1
    assert (
        values[("gateway_graphql_requests_total", (("operation", "anonymous"), ("outcome", "rejected")))] == 1
    )
    assert values[("gateway_graphql_errors_total", (("code", "GRAPHQL_VALIDATION_FAILED"),))] == 1
    assert values[("gateway_graphql_request_duration_seconds_count", (("operation", "Page"),))] == 1
    # One page query, one count, one batch for the errors of the three jobs of the page.
    assert values[("gateway_mongodb_commands_total", (("command", "find"), ("outcome", "ok")))] == 2
    assert values[("gateway_mongodb_commands_total", (("command", "aggregate"), ("outcome", "ok")))] == 1
    assert values[("gateway_mongodb_command_duration_seconds_count", (("command", "find"),))] == 2
    assert values[("gateway_dataloader_batch_size_count", (("loader", "errors_by_job_id"),))] == 1
    assert values[("gateway_dataloader_batch_size_sum", (("loader", "errors_by_job_id"),))] == 3
    assert (
        values[("gateway_http_requests_total", (("method", "POST"), ("route", "/graphql"), ("status", "400")))]
        == 1
    )

    lines = [r for r in caplog.records if r.name == "gateway.request"]
    assert [(r.operation, r.outcome, r.mongo_commands, r.status) for r in lines] == [  # type: ignore[attr-defined]
        ("Page", "ok", 3, 200),
        (None, "rejected", 0, 400),
    ]


async def test_request_ids_are_accepted_checked_and_returned(http: httpx.AsyncClient) -> None:
    given = await http.get("/healthz", headers={"x-request-id": "abc-123.X:y_z"})
    assert given.headers["x-request-id"] == "abc-123.X:y_z"
    for bad in (b"has space", b"x" * 129, b"semi;colon", "ünï".encode()):
        replaced = await http.get("/healthz", headers={b"x-request-id": bad})
        assert replaced.headers["x-request-id"].encode() != bad
        assert len(replaced.headers["x-request-id"]) == 32
    generated = {(await http.get("/healthz")).headers["x-request-id"] for _ in range(3)}
    assert len(generated) == 3


async def test_the_request_log_line_is_json_without_secrets(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.request")
    await http.post(
        "/graphql",
        json={"query": PAGE, "variables": {"limit": "SECRET-VALUE-42"}, "operationName": "Page"},
        headers={"authorization": "Bearer TOKEN-XYZ", "x-request-id": "req-1"},
    )
    (record,) = [r for r in caplog.records if r.name == "gateway.request"]
    line = JsonFormatter("%(levelname)s %(name)s %(message)s").format(record)
    entry = json.loads(line)
    assert entry["request_id"] == "req-1"
    assert entry["operation"] == "Page" and entry["outcome"] == "rejected"
    assert entry["mongo_commands"] == 0 and entry["status"] == 400
    assert isinstance(entry["duration_ms"], float)
    assert "SECRET-VALUE-42" not in line and "TOKEN-XYZ" not in line and "jobs(" not in line


async def test_each_operation_is_one_span(http: httpx.AsyncClient, exporter: Any) -> None:
    await http.post(
        "/graphql", json={"query": "query Hello { __typename }"}, headers={"x-request-id": "span-1"}
    )
    await http.post("/graphql", json={"query": "{ jobs { totalCount } }"})
    first, second = exporter.get_finished_spans()
    assert first.name == "graphql query Hello"
    assert first.attributes is not None and first.attributes["gateway.request_id"] == "span-1"
    assert second.attributes is not None
    assert list(second.attributes["graphql.error.codes"]) == ["BAD_USER_INPUT"]  # type: ignore[arg-type]


async def test_a_compiled_run_is_logged_counted_and_traced_like_a_standard_one(
    http: httpx.AsyncClient, mock_db: Any, caplog: pytest.LogCaptureFixture, exporter: Any
) -> None:
    await mock_db["job"].insert_many([factories.job(DOMAIN) for _ in range(4)])
    caplog.set_level(logging.INFO, logger="gateway.request")
    request = {"query": PAGE, "variables": {"limit": 2}, "operationName": "Page"}
    answers = [
        (await http.post("/graphql", json=request, headers={"x-request-id": f"run-{n}"})).json()
        for n in range(2)
    ]
    assert answers[0] == answers[1] and len(answers[0]["data"]["jobs"]["results"]) == 2

    values = samples((await http.get("/metrics")).text)
    assert values[("gateway_compiled_executions_total", (("outcome", "standard"),))] == 1
    assert values[("gateway_compiled_executions_total", (("outcome", "compiled"),))] == 1
    assert values[("gateway_graphql_requests_total", (("operation", "Page"), ("outcome", "ok")))] == 2
    lines = [r for r in caplog.records if r.name == "gateway.request"]
    assert [(r.operation, r.outcome) for r in lines] == [("Page", "ok"), ("Page", "ok")]  # type: ignore[attr-defined]
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == ["graphql query Page"] * 2
    assert [span.attributes["gateway.request_id"] for span in spans if span.attributes] == ["run-0", "run-1"]
    assert all(span.end_time and span.start_time and span.end_time > span.start_time for span in spans)
