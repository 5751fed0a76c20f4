"""Documents are measured before validation: fragments expanded (each measured once), nesting
with introspection fields, introspection lists, aliases and repeated fields; past a bound they
are refused with QUERY_TOO_COMPLEX, and nothing a client builds makes that measure slow."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, introspection_from_schema

from bench.hostile import (
    cyclic_fragments,
    doubling_chain,
    job_chain,
    nested_introspection,
    query_chain,
    type_ref_introspection,
)
from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from schema import build_schema
from tests import factories
from tests.conftest import DOMAIN, seed
from tests.graphql.test_security import JOBS, AppFactory, codes, post

GRAPHIQL_3_INTROSPECTION = get_introspection_query(
    descriptions=True, input_value_deprecation=True, schema_description=True, type_depth=9
)
"""What GraphiQL 3 sends (graphql-js 16's getIntrospectionQuery with inputValueDeprecation and
schemaDescription; its TypeRef nests ``ofType`` nine times)."""


@pytest.fixture
async def data(mock_db: Any) -> dict[str, list[dict[str, Any]]]:
    jobs = [factories.job(DOMAIN) for _ in range(3)]
    await seed(mock_db, jobs)
    return {DOMAIN: jobs}


@pytest.fixture
async def gateway(mock_db: Any) -> AsyncIterator[AppFactory]:
    """Builds an app over the mock database with the given settings overrides."""
    clients: list[httpx.AsyncClient] = []

    def build(**overrides: Any) -> httpx.AsyncClient:
        settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0, **overrides)
        app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
        clients.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw"))
        return clients[-1]

    yield build
    for client in clients:
        await client.aclose()


def refused(status: int, body: dict[str, Any], setting: str) -> str:
    assert status == 400, body
    assert "data" not in body
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    message: str = body["errors"][0]["message"]
    assert setting in message
    return message


@pytest.mark.parametrize("depth", [12, 24])
async def test_a_doubling_fragment_chain_on_query_is_refused_with_its_expanded_size(
    gateway: AppFactory, data: Any, depth: int
) -> None:
    client = gateway()
    message = refused(*await post(client, query_chain(depth)), "GATEWAY_MAX_EXPANDED_FIELDS")
    assert f"selects {2**depth} fields" in message
    status, body = await post(client, JOBS, {"domain": DOMAIN})
    assert body["data"]["jobs"]["totalCount"] == len(data[DOMAIN])


async def test_a_doubling_fragment_chain_on_job_inside_results_is_refused(gateway: AppFactory) -> None:
    client = gateway()
    message = refused(*await post(client, job_chain(24)), "GATEWAY_MAX_EXPANDED_FIELDS")
    # jobs, results, then 2**24 copies of "jobId status errors { errorCode }" (4 fields)
    assert f"selects {2 + 4 * 2**24} fields" in message


async def test_a_chain_within_the_bound_is_answered(gateway: AppFactory, data: Any) -> None:
    client = gateway(max_expanded_fields=10_000)
    document = 'query { jobs(domainId: "%s") { results { ...F6 } } } %s' % (
        DOMAIN,
        doubling_chain(6, "Job", "jobId"),
    )
    status, body = await post(client, document)
    assert status == 200, body
    assert {r["jobId"] for r in body["data"]["jobs"]["results"]} == {j["job_id"] for j in data[DOMAIN]}


async def test_cyclic_fragments_end_in_a_validation_error(gateway: AppFactory) -> None:
    status, body = await post(gateway(), cyclic_fragments())
    assert status == 400
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Cannot spread fragment 'A' within itself" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "document",
    [
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
        '{ __type(name: "Job") { ...T } } fragment T on __Type { fields { type { ...U } } } '
        "fragment U on __Type { interfaces { possibleTypes { name } } }",
        "{ __schema { types { inputFields { type { inputFields { type { interfaces { name } } } } } } } }",
    ],
    ids=["fields", "through fragments", "inputFields and interfaces"],
)
async def test_introspection_lists_nested_three_deep_are_refused(gateway: AppFactory, document: str) -> None:
    message = refused(*await post(gateway(), document), "maximum introspection depth exceeded")
    assert "3 deep" in message


async def test_introspection_lists_nested_two_deep_are_answered(gateway: AppFactory) -> None:
    status, body = await post(
        gateway(),
        '{ __type(name: "JobsInfo") { fields { name type { ofType { '
        "ofType { ofType { fields { name } } } } } } } }",
    )
    assert status == 200
    [results] = [f for f in body["data"]["__type"]["fields"] if f["name"] == "results"]
    job = results["type"]["ofType"]["ofType"]["ofType"]  # [Job!]!: non-null, list, non-null, Job
    expected = build_schema()._schema.get_type("Job").fields  # type: ignore[union-attr]
    assert [f["name"] for f in job["fields"]] == list(expected)


@pytest.mark.parametrize(
    "document", [nested_introspection(28), type_ref_introspection(28)], ids=["lists", "ofType"]
)
async def test_deep_introspection_counts_toward_the_depth_limit(gateway: AppFactory, document: str) -> None:
    message = refused(*await post(gateway(), document), "GATEWAY_MAX_QUERY_DEPTH")
    assert re.search(r"nests fields (\d+) deep", message)


@pytest.mark.parametrize(
    "document", [get_introspection_query(), GRAPHIQL_3_INTROSPECTION], ids=["graphql-core", "GraphiQL 3"]
)
async def test_standard_introspection_queries_are_answered_in_full(gateway: AppFactory, document: str) -> None:
    status, body = await post(gateway(), document)
    assert status == 200, body
    expected = introspection_from_schema(
        build_schema()._schema, descriptions=True, input_value_deprecation=True, schema_description=True
    )
    got = body["data"]["__schema"]
    assert {t["name"] for t in got["types"]} == {t["name"] for t in expected["__schema"]["types"]}
    assert got["queryType"] == expected["__schema"]["queryType"]


async def test_fields_repeated_many_times_are_refused_before_validation(gateway: AppFactory) -> None:
    document = '{ jobs(domainId: "%s") { results { %s } } }' % (
        DOMAIN,
        " ".join(["errors { errorCode }"] * 240),
    )
    message = refused(*await post(gateway(), document), "GATEWAY_MAX_FIELD_PAIRS")
    assert "600 pairs" in message


async def test_overlapping_fragments_as_clients_write_them_are_answered(gateway: AppFactory, data: Any) -> None:
    """Twenty component fragments on Job, each with the __typename a client adds."""
    fragments = " ".join(
        f"fragment P{i} on Job {{ __typename jobId status errors {{ __typename errorCode }} }}"
        for i in range(20)
    )
    spreads = " ".join(f"...P{i}" for i in range(20))
    document = '{ jobs(domainId: "%s") { results { %s } } } %s' % (DOMAIN, spreads, fragments)
    status, body = await post(gateway(), document)
    assert status == 200, body
    assert {r["jobId"] for r in body["data"]["jobs"]["results"]} == {j["job_id"] for j in data[DOMAIN]}


async def test_many_fragments_spread_in_one_selection_are_refused_before_validation(
    gateway: AppFactory,
) -> None:
    count = 45  # 990 pairs of fragments for validation to compare, and 990 pairs of __typename
    document = "{ %s } %s" % (
        " ".join(f"...F{i}" for i in range(count)),
        " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(count)),
    )
    refused(*await post(gateway(), document), "GATEWAY_MAX_FIELD_PAIRS")
    status, body = await post(gateway(max_field_pairs=2000), document)
    assert body["data"] == {"__typename": "Query"}


async def test_aliases_are_counted_through_fragments(gateway: AppFactory) -> None:
    document = (
        "{ ...A ...B } fragment A on Query { a: __typename b: __typename } "
        "fragment B on Query { ...A c: __typename }"
    )
    message = refused(*await post(gateway(max_aliases=4), document), "GATEWAY_MAX_ALIASES")
    assert "has 5 aliases" in message
    status, body = await post(gateway(max_aliases=5), document)
    assert body["data"] == {"a": "Query", "b": "Query", "c": "Query"}
