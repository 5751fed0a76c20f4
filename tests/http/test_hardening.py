"""Regressions from adversarial review: odd token headers, deep REST bodies, catastrophic
regexes, row budgets across aliases, refused media types, metric labels, REST routing errors."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymongo.errors import NetworkTimeout

from gateway.app import create_app
from gateway.errors import QueryError, Timeout
from gateway.http.protocol import negotiate
from gateway.mongo.client import MongoHandle, driver_errors
from gateway.mongo.expr import Condition
from gateway.mongo.query import QueryLimits, compile_filter
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN, seed
from tests.tokens import KeyPair, bearer, write_jwks

PAIR = KeyPair.rsa("k1")
REST = "/power-scheduler/v1/jobs"
LIMITS = QueryLimits.from_settings(Settings())


def forged_header_token(header: dict[str, Any]) -> str:
    encode = lambda part: base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{encode(header)}.{encode({'did': DOMAIN})}.c2ln"


@pytest.fixture
async def http(mock_db: Any, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    await seed(mock_db, [factories.job(DOMAIN, status="ERROR") for _ in range(150)])
    settings = Settings(
        mongodb_uri="mongodb://unused.invalid",
        demo_jobs=0,
        auth="jwt",
        jwt_keys=str(write_jwks(tmp_path / "jwks.json", PAIR)),
        max_cost=250,
    )
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "RS256", "kid": 5},
        {"alg": "RS256", "kid": ["k1"]},
        {"alg": "RS256", "kid": "k1", "crit": ["x"]},
    ],
)
async def test_a_token_header_pyjwt_refuses_is_unauthenticated_not_a_crash(
    http: httpx.AsyncClient, header: dict[str, Any]
) -> None:
    token = forged_header_token(header)
    graphql = await http.post(
        "/graphql",
        json={"query": "{ jobs { totalCount } }"},
        headers={**bearer(token), "Accept": "application/json"},
    )
    assert graphql.status_code == 200
    assert [e["extensions"]["code"] for e in graphql.json()["errors"]] == ["UNAUTHENTICATED"]
    rest = await http.post(f"{REST}/search", json={}, headers=bearer(token))
    assert rest.status_code == 401 and rest.json()["error"]["code"] == "ERROR_AUTHENTICATE_FAILURE"


async def test_a_deeply_nested_rest_body_is_a_clean_400(http: httpx.AsyncClient) -> None:
    token = PAIR.token({"did": DOMAIN, "exp": 2**40})
    for depth in (40, 3000):
        body = '{"domain_id": "%s", "query": {"filter": %s}}' % (DOMAIN, "[" * depth + "]" * depth)
        response = await http.post(
            f"{REST}/search", content=body, headers={**bearer(token), "Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert "nested deeper" in response.json()["error"]["message"]


async def test_routing_errors_on_rest_routes_are_spaceone_json(http: httpx.AsyncClient) -> None:
    response = await http.put(f"{REST}/search", json={})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "ERROR_METHOD_NOT_ALLOWED"
    assert "POST" in response.headers["allow"]


async def test_statistics_rows_add_up_across_aliases(http: httpx.AsyncClient) -> None:
    token = PAIR.token({"did": DOMAIN, "exp": 2**40})
    stat = 'jobStats(query: {aggregate: [{group: {keys: [{key: "job_id", name: "j"}], fields: [{operator: COUNT, name: "n"}]}}]}) { results }'
    one = await http.post("/graphql", json={"query": "{ a: %s }" % stat}, headers=bearer(token))
    assert len(one.json()["data"]["a"]["results"]) == 150
    two = await http.post("/graphql", json={"query": "{ a: %s b: %s }" % (stat, stat)}, headers=bearer(token))
    body = two.json()
    assert "QUERY_TOO_COMPLEX" in [e["extensions"]["code"] for e in body["errors"]]
    assert "GATEWAY_MAX_COST" in json.dumps(body["errors"])


@pytest.mark.parametrize("pattern", ["(\\w|\\w|\\w|\\w)*y", "(a+)+$", "(?:x*)*z", ".*a.*b.*c", "(foo|bar)+"])
def test_patterns_with_catastrophic_backtracking_are_refused(pattern: str) -> None:
    with pytest.raises(QueryError, match="exponential time"):
        compile_filter(Condition("job_id", "regex", pattern), LIMITS)


@pytest.mark.parametrize("pattern", ["^job-0+1", "[0-4]$", "^(job|task)-[0-9a-f]+$", "a{2,5}b", ".*busy.*"])
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert compile_filter(Condition("job_id", "regex", pattern), LIMITS).filter["job_id"].pattern == pattern


def test_a_server_that_stops_answering_is_a_timeout() -> None:
    with pytest.raises(Timeout), driver_errors():
        raise NetworkTimeout("timed out")


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("application/graphql-response+json;q=0, */*", "application/json"),
        ("application/json;q=0, application/*", "application/graphql-response+json"),
        ("application/*;q=0, application/json", "application/json"),
        ("application/json;q=0, application/graphql-response+json;q=0, */*", None),
        ("*/*", "application/graphql-response+json"),
    ],
)
def test_a_type_refused_with_q0_is_never_chosen(accept: str, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


async def test_operation_labels_are_names_the_document_defines(mock_db: Any) -> None:
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        for i in range(3):
            await client.post("/graphql", json={"query": "{ __typename }", "operationName": f"junk{i}"})
        await client.post("/graphql", json={"query": "query Card { __typename }", "operationName": "Card"})
        text = (await client.get("/metrics")).text
    labels = {
        sample.labels.get("operation")
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if "operation" in sample.labels
    }
    assert "Card" in labels
    assert not any(label and label.startswith("junk") for label in labels)
