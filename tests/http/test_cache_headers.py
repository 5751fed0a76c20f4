"""Cache-Control: successful GETs carry GATEWAY_GET_CACHE_CONTROL; every error answer, a
persisted query not found included, carries ``no-store`` so no cache keeps a miss."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN, seed

COUNT = 'query Count { jobs(domainId: "%s") { totalCount } }' % DOMAIN
CACHE = "public, max-age=30"


@pytest.fixture
async def client(mock_db: Any) -> AsyncIterator[httpx.AsyncClient]:
    await seed(mock_db, [factories.job(DOMAIN) for _ in range(2)])
    settings = Settings(
        mongodb_uri="mongodb://unused.invalid", demo_jobs=0, get_cache_control=CACHE, max_body_bytes=2000
    )
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c


def apq(query: str) -> str:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})


async def test_a_successful_get_keeps_the_configured_cache_control(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", params={"query": COUNT})
    assert response.json() == {"data": {"jobs": {"totalCount": 2}}}
    assert response.headers["cache-control"] == CACHE


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_a_persisted_query_not_found_is_never_stored(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.get("/graphql", params={"extensions": apq(COUNT)}, headers={"accept": accept})
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert response.headers["cache-control"] == "no-store"
    registered = await client.get("/graphql", params={"query": COUNT, "extensions": apq(COUNT)})
    assert registered.headers["cache-control"] == CACHE


@pytest.mark.parametrize(
    ("method", "request_args"),
    [
        ("GET", {"params": {"query": "{ nope }"}}),  # validation
        ("GET", {"params": {"query": "{ jobs { totalCount } }"}}),  # domainId missing: data null
        ("GET", {"params": {"query": "{"}}),  # parse
        ("POST", {"json": {"query": "{ nope }"}}),
        ("POST", {"content": b"[1]", "headers": {"content-type": "application/json"}}),
        ("POST", {"json": {"query": "x" * 3000}}),  # above the body limit: 413
        ("PUT", {"json": {"query": COUNT}}),  # 405
    ],
)
async def test_every_error_answer_says_no_store(
    client: httpx.AsyncClient, method: str, request_args: dict[str, Any]
) -> None:
    response = await client.request(method, "/graphql", **request_args)
    assert response.json()["errors"]
    assert response.headers["cache-control"] == "no-store"


async def test_a_successful_post_sets_no_cache_control(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": COUNT})
    assert response.json() == {"data": {"jobs": {"totalCount": 2}}}
    assert "cache-control" not in response.headers
