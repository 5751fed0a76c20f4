"""A fuzz suite: operations generated from the real schema (``hypothesis-graphql``), valid and
invalid, with the seeded domain as their ``domainId``, and a corpus of hostile raw bodies, sent
to the app over HTTP. Whatever comes in: no 5xx, no INTERNAL_SERVER_ERROR, no internals (a
traceback, MongoDB's or the driver's text) in the answer, no hang.

Bounded and reproducible: a fixed number of examples, derandomized.

Two input classes are left out of generation here because they are handled elsewhere: lone
surrogates in text (the generator only produces UTF-8-encodable text, ``codec="utf-8"``) and
integers beyond Python's 4,300-digit integer-string limit (GraphQL ``Int`` is 32-bit, and the
``JSON`` strategy below draws bounded numbers)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes, queries
from mongomock_motor import AsyncMongoMockClient

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from schema import build_schema
from tests import factories
from tests.conftest import DATABASE, DOMAIN, OTHER_DOMAIN

SDL = graphql.print_schema(build_schema()._schema)
LEAKS = re.compile(
    r"Traceback|File \"|pymongo|mongomock|motor\.|bson\.|errmsg|codeName|"
    r"OperationFailure|\$[a-z]+: |\.py\b",
    re.I,
)
REQUEST_SECONDS = 30  # a request slower than this is a hang

FUZZ = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

JSON_VALUES = st.recursive(
    st.none().map(lambda _: nodes.Null)
    | st.booleans().map(nodes.Boolean)
    | st.integers(-(2**53), 2**53).map(nodes.Int)
    | st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float)
    | st.text(max_size=20).map(nodes.String),
    lambda inner: (
        st.lists(inner, max_size=3).map(nodes.List)
        | st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), inner, max_size=3).map(
            lambda d: graphql.ObjectValueNode(
                fields=tuple(
                    graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v) for k, v in d.items()
                )
            )
        )
    ),
    max_leaves=6,
)
DATES = st.sampled_from(
    [
        "2026-01-01T00:00:00Z",
        "2026-06-30T12:00:00+02:00",
        "2025-12-31",
        "not a date",
        "",
        "9999-12-31T23:59:59Z",
    ]
).map(nodes.String)
SCALARS = {"JSON": JSON_VALUES, "DateTime": DATES}


class _RealDomain(graphql.Visitor):
    """``domainId`` arguments name the seeded domain (most of the time), so operations read data."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.domain = domain

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> graphql.ArgumentNode | None:
        if node.name.value == "domainId" and isinstance(node.value, graphql.StringValueNode):
            return graphql.ArgumentNode(name=node.name, value=graphql.StringValueNode(value=self.domain))
        return None


def printed_with(domain: str) -> Any:
    return lambda document: graphql.print_ast(graphql.visit(document, _RealDomain(domain)))


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def http(loop: asyncio.AbstractEventLoop) -> Iterator[httpx.AsyncClient]:
    database = AsyncMongoMockClient(tz_aware=False)[DATABASE]
    jobs = [
        factories.job(domain, status=status, errors=[factories.error("ERROR_X")] if i % 2 else [])
        for domain in (DOMAIN, OTHER_DOMAIN)
        for i, status in enumerate(["ERROR", "SUCCESS", "IN_PROGRESS", "CANCELED", "TIMEOUT"])
    ]
    loop.run_until_complete(database["job"].insert_many(jobs))
    settings_ = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)
    app = create_app(settings_, MongoHandle(database.client, database, embedded=False))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    yield client
    loop.run_until_complete(client.aclose())


def send(
    loop: asyncio.AbstractEventLoop, http: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    request = http.request(method, url, **kwargs)
    return loop.run_until_complete(asyncio.wait_for(request, REQUEST_SECONDS))


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert not LEAKS.search(response.text), response.text[:500]
    if "json" in response.headers.get("content-type", ""):
        body = response.json()
        errors = body.get("errors", []) if isinstance(body, dict) else []
        codes = [(e.get("extensions") or {}).get("code") for e in errors]
        assert "INTERNAL_SERVER_ERROR" not in codes, errors


@FUZZ
@given(document=queries(SDL, custom_scalars=SCALARS, mode=Mode.POSITIVE, print_ast=printed_with(DOMAIN)))
def test_valid_generated_operations(
    loop: asyncio.AbstractEventLoop, http: httpx.AsyncClient, document: str
) -> None:
    response = send(loop, http, "POST", "/graphql", json={"query": document})
    check(response)
    # valid against the schema: refused for its values, its cost or its size, never for its form
    # (except @oneOf, which the generator does not know: it may give a @oneOf input (AggregateStage,
    # ProjectOperand) no field or two)
    form = [
        e
        for e in response.json().get("errors", [])
        if (e.get("extensions") or {}).get("code") in ("GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED")
        and not e["message"].startswith("OneOf Input Object")
    ]
    assert not form, form


@FUZZ
@given(document=queries(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE, print_ast=printed_with(DOMAIN)))
def test_invalid_generated_operations(
    loop: asyncio.AbstractEventLoop, http: httpx.AsyncClient, document: str
) -> None:
    check(send(loop, http, "POST", "/graphql", json={"query": document}))


JSON_BODY = {"Content-Type": "application/json"}
HOSTILE_BODIES: list[tuple[str, bytes, dict[str, str]]] = [
    ("not JSON", b"{", JSON_BODY),
    ("empty", b"", JSON_BODY),
    ("a JSON string", b'"{ __typename }"', JSON_BODY),
    ("a batch", b'[{"query": "{ __typename }"}]', JSON_BODY),
    ("query a number", b'{"query": 1}', JSON_BODY),
    ("query null", b'{"query": null}', JSON_BODY),
    ("variables a string", b'{"query": "{ __typename }", "variables": "x"}', JSON_BODY),
    ("variables a list", b'{"query": "{ __typename }", "variables": [1]}', JSON_BODY),
    ("extensions a list", b'{"query": "{ __typename }", "extensions": [1]}', JSON_BODY),
    ("operationName a number", b'{"query": "{ __typename }", "operationName": 5}', JSON_BODY),
    ("unknown operationName", b'{"query": "query A { __typename }", "operationName": "B"}', JSON_BODY),
    ("two anonymous operations", b'{"query": "{ __typename } { __typename }"}', JSON_BODY),
    ("a mutation", b'{"query": "mutation { x }"}', JSON_BODY),
    ("a subscription", b'{"query": "subscription { x }"}', JSON_BODY),
    (
        "deep JSON",
        b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        JSON_BODY,
    ),
    ("deep selection", json.dumps({"query": "{" * 3000 + "}" * 3000}).encode(), JSON_BODY),
    (
        "deep input literal",
        json.dumps(
            {
                "query": '{ jobs(domainId: "%s", query: {filter: [{k: "a", v: %s, '
                "o: IN}]}) { totalCount } }" % (DOMAIN, "[" * 2000 + "]" * 2000)
            }
        ).encode(),
        JSON_BODY,
    ),
    (
        "operator as a value",
        json.dumps(
            {
                "query": 'query($v: JSON) { jobs(domainId: "%s", query: '
                '{filter: [{k: "job_id", v: $v, o: EQ}]}) { totalCount } }' % DOMAIN,
                "variables": {"v": {"$ne": None}},
            }
        ).encode(),
        JSON_BODY,
    ),
    (
        "operator as a key",
        json.dumps(
            {
                "query": '{ jobs(domainId: "%s", query: {filter: [{k: "$where", '
                'v: "1", o: EQ}]}) { totalCount } }' % DOMAIN
            }
        ).encode(),
        JSON_BODY,
    ),
    (
        "wrong variable type",
        json.dumps(
            {
                "query": 'query($n: Int) { jobsConnection(domainId: "%s", first: $n) { totalCount } }' % DOMAIN,
                "variables": {"n": "ten"},
            }
        ).encode(),
        JSON_BODY,
    ),
    (
        "a 32-bit overflow",
        json.dumps(
            {
                "query": 'query($n: Int) { jobsConnection(domainId: "%s", first: $n) { totalCount } }' % DOMAIN,
                "variables": {"n": 2**40},
            }
        ).encode(),
        JSON_BODY,
    ),
    ("a float page", b'{"query": "{ jobs(query: {page: {limit: 1.5}}) { totalCount } }"}', JSON_BODY),
    (
        "a bad cursor",
        json.dumps(
            {"query": '{ jobsConnection(domainId: "%s", after: "!!!") { totalCount } }' % DOMAIN}
        ).encode(),
        JSON_BODY,
    ),
    (
        "a forged cursor",
        json.dumps(
            {"query": '{ jobsConnection(domainId: "%s", after: "eyJ4IjoxfQ") { totalCount } }' % DOMAIN}
        ).encode(),
        JSON_BODY,
    ),
    (
        "a regex bomb",
        json.dumps(
            {
                "query": '{ jobs(domainId: "%s", query: {filter: [{k: "job_id", '
                'v: "(a+)+$", o: REGEX}]}) { totalCount } }' % DOMAIN
            }
        ).encode(),
        JSON_BODY,
    ),
    ("form encoded", b"query=%7B__typename%7D", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("wrong charset", '{"query": "{ __typename }"}'.encode("utf-16"), {"Content-Type": "application/json"}),
    ("invalid UTF-8", b'{"query": "{ __typename \xff }"}', JSON_BODY),
    ("no content type", b'{"query": "{ __typename }"}', {}),
    ("persisted query junk", b'{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": 5}}}', JSON_BODY),
    (
        "persisted query wrong hash",
        b'{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "00"}}}',
        JSON_BODY,
    ),
    (
        "stats with a bad stage",
        json.dumps(
            {
                "query": '{ jobStats(domainId: "%s", query: {aggregate: '
                "[{limit: -1}, {skip: -5}]}) { results } }" % DOMAIN
            }
        ).encode(),
        JSON_BODY,
    ),
    (
        "timeline across centuries",
        json.dumps(
            {
                "query": '{ jobTimeline(domainId: "%s", interval: HOUR, '
                'from: "1900-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") '
                "{ count } }" % DOMAIN
            }
        ).encode(),
        JSON_BODY,
    ),
    (
        "timeline in no zone",
        json.dumps(
            {
                "query": '{ jobTimeline(domainId: "%s", interval: DAY, '
                'timezone: "Mars/Olympus") { count } }' % DOMAIN
            }
        ).encode(),
        JSON_BODY,
    ),
]
HOSTILE_GETS = [
    "/graphql?query=%7B__typename%7D&variables=%7B",
    "/graphql?query=%7B__typename%7D&extensions=5",
    "/graphql?query=" + "%7B" * 3000,
    "/graphql?query=mutation%7Bx%7D",
    "/graphql?variables=%7B%7D",
    "/power-scheduler/v1/jobs?domain_id=" + DOMAIN + "&page=x",
    "/power-scheduler/v1/jobs?domain_id=%00",
]
HOSTILE_REST = [
    (
        "/power-scheduler/v1/jobs/search",
        b'{"domain_id": "%s", "query": {"filter": [{"k": "$where"}]}}' % DOMAIN.encode(),
    ),
    (
        "/power-scheduler/v1/jobs/search",
        b'{"domain_id": "%s", "query": {"page": {"limit": "x"}}}' % DOMAIN.encode(),
    ),
    ("/power-scheduler/v1/jobs/search", b"[1, 2]"),
    (
        "/power-scheduler/v1/jobs/stat",
        b'{"domain_id": "%s", "query": {"aggregate": [{"group": 5}]}}' % DOMAIN.encode(),
    ),
    (
        "/power-scheduler/v1/jobs/stat",
        b'{"domain_id": "%s", "query": {"distinct": {"$gt": 1}}}' % DOMAIN.encode(),
    ),
]


@pytest.mark.parametrize(
    ("body", "headers"), [c[1:] for c in HOSTILE_BODIES], ids=[c[0] for c in HOSTILE_BODIES]
)
def test_hostile_graphql_bodies(
    loop: asyncio.AbstractEventLoop, http: httpx.AsyncClient, body: bytes, headers: dict[str, str]
) -> None:
    response = send(loop, http, "POST", "/graphql", content=body, headers=headers)
    check(response)
    assert response.status_code != 200 or "errors" in response.json(), response.text[:300]


@pytest.mark.parametrize("url", HOSTILE_GETS)
def test_hostile_query_strings(loop: asyncio.AbstractEventLoop, http: httpx.AsyncClient, url: str) -> None:
    check(send(loop, http, "GET", url, headers={"Accept": "application/json"}))


@pytest.mark.parametrize(("path", "body"), HOSTILE_REST, ids=range(len(HOSTILE_REST)))
def test_hostile_rest_bodies(
    loop: asyncio.AbstractEventLoop, http: httpx.AsyncClient, path: str, body: bytes
) -> None:
    response = send(loop, http, "POST", path, content=body, headers=JSON_BODY)
    check(response)
    assert 400 <= response.status_code < 500


HOSTILE_HEADERS = [
    {"Authorization": "Bearer " + "a" * 8000},
    {"Authorization": "Bearer a.b.c"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"X-Request-Id": "../../" + "x" * 500},
    {"Accept": "application/graphql-response+json;q=abc, */*;q=-1"},
    {"Accept": "text/event-stream"},
    {"Content-Type": "application/json; charset=latin-1"},
    {"Content-Type": "application/json; charset=utf-8; boundary=" + "b" * 300},
    {"Origin": "http://evil.invalid"},
]


@pytest.mark.parametrize("headers", HOSTILE_HEADERS, ids=range(len(HOSTILE_HEADERS)))
def test_hostile_headers(
    loop: asyncio.AbstractEventLoop, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = json.dumps({"query": '{ jobs(domainId: "%s") { totalCount } }' % DOMAIN}).encode()
    check(send(loop, http, "POST", "/graphql", content=body, headers={**JSON_BODY, **headers}))
