"""Automatic persisted queries (Apollo's protocol) and the allow-list mode, over POST and GET."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.http.persisted import load_allow_list
from gateway.lru import LruCache
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN, seed

GQL = "application/graphql-response+json"
COUNT = 'query Count { jobs(domainId: "%s") { totalCount } }' % DOMAIN
OTHER = "query Other { __typename }"


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def apq(query_hash: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": query_hash}}


async def get_persisted(http: httpx.AsyncClient, query_hash: str, accept: str = GQL) -> httpx.Response:
    return await http.get(
        "/graphql", params={"extensions": json.dumps(apq(query_hash))}, headers={"accept": accept}
    )


def code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_the_apq_round_trip(http: httpx.AsyncClient, mock_db: Any) -> None:
    await seed(mock_db, [factories.job(DOMAIN) for _ in range(3)])
    unknown = await http.post("/graphql", json={"extensions": apq(sha(COUNT))}, headers={"accept": GQL})
    assert unknown.status_code == 404
    assert unknown.json() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }

    registered = await http.post("/graphql", json={"query": COUNT, "extensions": apq(sha(COUNT))})
    assert registered.json() == {"data": {"jobs": {"totalCount": 3}}}

    by_post = await http.post("/graphql", json={"extensions": apq(sha(COUNT))})
    by_get = await get_persisted(http, sha(COUNT))
    assert by_post.json() == by_get.json() == {"data": {"jobs": {"totalCount": 3}}}
    assert by_get.status_code == 200


async def test_not_found_is_200_under_application_json(http: httpx.AsyncClient) -> None:
    response = await get_persisted(http, sha(OTHER), accept="application/json")
    assert response.status_code == 200
    assert code(response) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extensions",
    [
        apq(sha(OTHER)),  # the hash of another document
        {"persistedQuery": {"version": 2, "sha256Hash": sha(COUNT)}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not-a-hash"}},
        {"persistedQuery": {"version": 1, "sha256Hash": ["a"]}},
        {"persistedQuery": "yes"},
    ],
)
async def test_a_bad_persisted_query_extension_is_bad_user_input(
    http: httpx.AsyncClient, extensions: dict[str, Any]
) -> None:
    response = await http.post("/graphql", json={"query": COUNT, "extensions": extensions})
    assert response.status_code == 400
    assert code(response) == "BAD_USER_INPUT"
    assert (await get_persisted(http, sha(COUNT))).status_code == 404  # nothing was stored


async def test_a_document_that_does_not_validate_is_not_remembered(http: httpx.AsyncClient) -> None:
    bad = "{ noSuchField }"
    response = await http.post("/graphql", json={"query": bad, "extensions": apq(sha(bad))})
    assert code(response) == "GRAPHQL_VALIDATION_FAILED"
    assert code(await get_persisted(http, sha(bad))) == "PERSISTED_QUERY_NOT_FOUND"


def test_the_cache_forgets_the_least_recently_used() -> None:
    cache: LruCache[str, str] = LruCache(2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # a is now more recent than b
    cache.put("c", "C")
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == ("A", None, "C", 2)


async def test_the_cache_size_is_configurable(mock_db: Any) -> None:
    settings = Settings(mongodb_uri="mongodb://unused.invalid", persisted_queries_cache_size=1)
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as http:
        for query in (OTHER, "query Third { __typename }"):
            await http.post("/graphql", json={"query": query, "extensions": apq(sha(query))})
        assert code(await get_persisted(http, sha(OTHER))) == "PERSISTED_QUERY_NOT_FOUND"
        assert (await get_persisted(http, sha("query Third { __typename }"))).status_code == 200


# allow-list ---------------------------------------------------------------------------------


@pytest.fixture(params=["object", "list", "manifest"])
def allow_list(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / "operations.json"
    content: Any = {
        "object": {sha(COUNT): COUNT},
        "list": [COUNT],
        "manifest": {
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{"id": sha(COUNT), "name": "Count", "type": "query", "body": COUNT}],
        },
    }[request.param]
    path.write_text(json.dumps(content))
    return path


@pytest.fixture
async def listed_http(allow_list: Path, mock_db: Any) -> Any:
    settings = Settings(mongodb_uri="mongodb://unused.invalid", persisted_only=allow_list)
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as http:
        yield http


async def test_only_listed_operations_run(listed_http: httpx.AsyncClient, mock_db: Any) -> None:
    await seed(mock_db, [factories.job(DOMAIN) for _ in range(2)])
    expected = {"data": {"jobs": {"totalCount": 2}}}
    assert (await get_persisted(listed_http, sha(COUNT))).json() == expected
    assert (await listed_http.post("/graphql", json={"query": COUNT})).json() == expected

    refused = await listed_http.post("/graphql", json={"query": OTHER}, headers={"accept": GQL})
    assert refused.status_code == 403
    assert code(refused) == "OPERATION_NOT_ALLOWED"
    assert "data" not in refused.json()
    # A client cannot add to the list by registering a hash.
    registering = await listed_http.post("/graphql", json={"query": OTHER, "extensions": apq(sha(OTHER))})
    assert code(registering) == "OPERATION_NOT_ALLOWED"
    assert code(await get_persisted(listed_http, sha(OTHER))) == "PERSISTED_QUERY_NOT_FOUND"


def test_a_missing_or_malformed_allow_list_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GATEWAY_PERSISTED_ONLY"):
        Settings(persisted_only=tmp_path / "missing.json")
    for content in ("{not json", '{"h": 7}', "42"):
        path = tmp_path / "operations.json"
        path.write_text(content)
        with pytest.raises(ValueError):
            load_allow_list(path)
