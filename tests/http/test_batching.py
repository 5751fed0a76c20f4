"""Batched requests (a JSON array of operations), opt-in with GATEWAY_MAX_BATCH_SIZE: answered
as an array in order, each operation with its own errors and metrics, the cost limits held for
each operation and for the batch as a whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, seed

JOBS = [factories.job(DOMAIN, status=status) for status in ("ERROR", "SUCCESS", "ERROR")]
THEIRS = [factories.job(OTHER_DOMAIN, status="ERROR")]
COUNT = 'query Count($status: JobStatus) { jobs(domainId: "%s", status: $status) { totalCount } }' % DOMAIN
PAGE = 'query Page { jobs(domainId: "%s") { results { jobId } } }' % DOMAIN
GQL = "application/graphql-response+json"


async def client_with(mock_db: Any, **overrides: Any) -> httpx.AsyncClient:
    await seed(mock_db, [*JOBS, *THEIRS])
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0, **overrides)
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


@pytest.fixture
async def batching(mock_db: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_with(mock_db, max_batch_size=4) as client:
        yield client


def count_of(status: str) -> int:
    return sum(1 for job in JOBS if job["status"] == status)


async def test_batches_are_refused_unless_enabled(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json=[{"query": COUNT}], headers={"accept": GQL})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "batched requests are not supported; send one JSON object"
    )
    assert response.headers["cache-control"] == "no-store"


async def test_a_batch_is_answered_as_an_array_in_order(batching: httpx.AsyncClient) -> None:
    response = await batching.post(
        "/graphql",
        json=[
            {"query": COUNT, "variables": {"status": "ERROR"}},
            {"query": "{ nope }"},
            {"query": COUNT, "variables": {"status": "SUCCESS"}, "operationName": "Count"},
        ],
        headers={"accept": GQL},
    )
    assert response.status_code == 200
    first, second, third = response.json()
    assert first == {"data": {"jobs": {"totalCount": count_of("ERROR")}}}
    assert [e["extensions"]["code"] for e in second["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "data" not in second
    assert third == {"data": {"jobs": {"totalCount": count_of("SUCCESS")}}}
    assert response.headers["cache-control"] == "no-store"  # an answer in it holds an error


async def test_a_malformed_entry_is_answered_in_its_place(batching: httpx.AsyncClient) -> None:
    response = await batching.post(
        "/graphql",
        json=[
            5,
            {"query": COUNT},
            {"variables": {}},
            {"query": COUNT, "variables": []},
        ],
    )
    assert response.status_code == 200
    bodies = response.json()
    assert bodies[1] == {"data": {"jobs": {"totalCount": len(JOBS)}}}
    messages = [body["errors"][0]["message"] for i, body in enumerate(bodies) if i != 1]
    assert messages == [
        "each operation of a batch must be a JSON object",
        "the request has no 'query'",
        "'variables' must be an object or null",
    ]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([], "the batch is empty; send at least one operation"),
        (
            [{"query": COUNT}] * 5,
            "the batch has 5 operations, more than the limit of 4 (GATEWAY_MAX_BATCH_SIZE)",
        ),
    ],
)
async def test_an_empty_or_too_long_batch_is_refused_whole(
    batching: httpx.AsyncClient, batch: list[Any], message: str
) -> None:
    response = await batching.post("/graphql", json=batch, headers={"accept": GQL})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == message
    assert response.headers["cache-control"] == "no-store"


async def test_cost_limits_hold_for_the_batch_as_a_whole(mock_db: Any) -> None:
    # A page of jobs costs 1 (JobsInfo) + 100 (the default page size of Job objects): one fits
    # under 150, two do not.
    async with await client_with(mock_db, max_batch_size=4, max_cost=150) as client:
        single = await client.post("/graphql", json={"query": PAGE})
        assert len(single.json()["data"]["jobs"]["results"]) == len(JOBS)
        response = await client.post("/graphql", json=[{"query": PAGE}, {"query": PAGE}])
    first, second = response.json()
    assert {r["jobId"] for r in first["data"]["jobs"]["results"]} == {j["job_id"] for j in JOBS}
    assert [e["extensions"]["code"] for e in second["errors"]] == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    assert "GATEWAY_MAX_COST" in second["errors"][0]["message"]


async def test_each_operation_of_a_batch_is_its_own_metric(batching: httpx.AsyncClient) -> None:
    await batching.post(
        "/graphql",
        json=[
            {"query": COUNT, "operationName": "Count"},
            {"query": PAGE, "operationName": "Page"},
            {"query": "query Broken { nope }"},
        ],
    )
    text = (await batching.get("/metrics")).text
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    requests = "gateway_graphql_requests_total"
    assert values[(requests, (("operation", "Count"), ("outcome", "ok")))] == 1
    assert values[(requests, (("operation", "Page"), ("outcome", "ok")))] == 1
    assert values[(requests, (("operation", "Broken"), ("outcome", "rejected")))] == 1
    assert values[("gateway_graphql_errors_total", (("code", "GRAPHQL_VALIDATION_FAILED"),))] == 1
