"""Every input is data: lone surrogates, huge numbers, NUL characters, deep nesting and odd header
bytes anywhere in a request get a 4xx (or a GraphQL error) with a code, never a 500, a reset
kept-alive connection or a traceback. In process for the many paths; over a real socket for the
connection."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from gateway.app import create_app
from gateway.decoding import MAX_NUMBER_DIGITS, JSONInputError, loads_request_json
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN, seed
from tests.live import LiveGateway
from tests.tokens import KeyPair, write_jwks

REST = "/power-scheduler/v1/jobs"
LONE = "\\ud800"  # a JSON escape of a lone high surrogate
LOW = "\\udfff"
BIG = "9" * (MAX_NUMBER_DIGITS + 1)
JOBS = 'query($q: SearchQuery) { jobs(domainId: "%s", query: $q) { totalCount } }' % DOMAIN
STATS = 'query($q: StatisticsQuery!) { jobStats(domainId: "%s", query: $q) { results } }' % DOMAIN


def graphql_body(variables: str = "{}", query: str = JOBS, **raw: str) -> str:
    """A GraphQL POST body as JSON text, with ``variables`` and other members given raw."""
    members = [f'"query": {json.dumps(query)}', f'"variables": {variables}']
    members += [f'"{name}": {value}' for name, value in raw.items()]
    return "{" + ", ".join(members) + "}"


def condition(k: str, v: str, o: str) -> str:
    return '{"q": {"filter": [{"k": %s, "v": %s, "o": "%s"}]}}' % (k, v, o)


def stage(text: str) -> str:
    return '{"q": {"aggregate": [%s]}}' % text


# name → (GraphQL POST body, words the message must hold)
GRAPHQL_BODIES: dict[str, tuple[str, str]] = {
    "operationName": (graphql_body(operationName=f'"{LONE}"'), "operationName"),
    "query text": (graphql_body(query="{ __typename %s }" % LONE.replace("\\", "\\\\")), ""),
    "query text, raw": ('{"query": "{ __typename \\ud800 }"}', "at query"),
    "a variable name": (graphql_body('{"%s": 1}' % LONE), "variables"),
    "a filter key": (graphql_body(condition(f'"{LONE}"', "1", "EQ")), "variables.q.filter[0].k"),
    "a filter value": (graphql_body(condition('"job_id"', f'"a{LONE}"', "EQ")), "filter[0].v"),
    "a low surrogate alone": (graphql_body(condition('"job_id"', f'"{LOW}"', "EQ")), "U+DFFF"),
    "a match object key": (graphql_body(condition('"errors"', '{"%s": "x"}' % LONE, "MATCH")), "filter[0].v"),
    "an unwind path": (graphql_body(stage('{"unwind": {"path": "%s"}}' % LONE), STATS), "unwind.path"),
    "a group key": (
        graphql_body(stage('{"group": {"keys": [{"key": "%s", "name": "k"}]}}' % LONE), STATS),
        "keys[0].key",
    ),
    "a group key name": (
        graphql_body(stage('{"group": {"keys": [{"key": "status", "name": "%s"}]}}' % LONE), STATS),
        "keys[0].name",
    ),
    "extensions": (graphql_body(extensions='{"persistedQuery": {"%s": 1}}' % LONE), "extensions"),
    "a huge integer variable": (graphql_body('{"q": {"page": {"limit": %s}}}' % BIG), "digits"),
    "a huge integer in extensions": (graphql_body(extensions='{"n": -%s}' % BIG), "digits"),
    "a huge integer as a filter value": (graphql_body(condition('"total_tasks"', BIG, "GT")), "digits"),
}


@pytest.fixture
async def http(settings: Settings, mock_db: Any) -> AsyncIterator[httpx.AsyncClient]:
    await seed(mock_db, [factories.job(DOMAIN, status="SUCCESS") for _ in range(3)])
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


def assert_coded_refusal(response: httpx.Response, words: str) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    errors = body.get("errors") or [body["error"]]
    first = errors[0]
    code = (first.get("extensions") or {}).get("code") or first.get("code")
    assert code and code != "INTERNAL_SERVER_ERROR"
    assert words in first["message"]
    assert "Traceback" not in response.text and "sys.set_int_max_str_digits" not in response.text
    return body


@pytest.mark.parametrize("name", GRAPHQL_BODIES)
async def test_a_graphql_body_with_text_or_numbers_it_cannot_hold_is_a_coded_400(
    http: httpx.AsyncClient, name: str
) -> None:
    body, words = GRAPHQL_BODIES[name]
    response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    refused = assert_coded_refusal(response, words)
    assert "data" not in refused  # refused before execution


@pytest.mark.parametrize("parameter", ["variables", "extensions"])
@pytest.mark.parametrize("value", ['{"x": "%s"}' % LONE, '{"x": %s}' % BIG, '{"x": [%s]}' % BIG])
async def test_get_parameters_are_checked_like_a_body(
    http: httpx.AsyncClient, parameter: str, value: str
) -> None:
    response = await http.get("/graphql", params={"query": "{ __typename }", parameter: value})
    assert_coded_refusal(response, f"the '{parameter}' parameter")


async def test_a_lone_surrogate_is_named_with_its_place_and_code_point(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", content=GRAPHQL_BODIES["a filter key"][0], headers={"Content-Type": "application/json"}
    )
    message = response.json()["errors"][0]["message"]
    assert "lone surrogate (U+D800)" in message and "variables.q.filter[0].k" in message
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_surrogate_pair_is_text_and_is_served(http: httpx.AsyncClient) -> None:
    body = graphql_body(condition('"job_id"', '"\\ud83d\\ude00"', "EQ"))
    response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"data": {"jobs": {"totalCount": 0}}}


@pytest.mark.parametrize("number", ["1e400", "-1" + "0" * 5000 + ".5", "1" + "0" * 400])
async def test_a_huge_float_or_integer_is_data_refused_by_the_condition_that_uses_it(
    http: httpx.AsyncClient, number: str
) -> None:
    body = graphql_body(condition('"total_tasks"', number, "GT"))
    response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    error = response.json()["errors"][0]
    assert response.json()["data"] is None
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "total_tasks" in error["message"]


async def test_nul_characters_are_data_or_a_coded_error(http: httpx.AsyncClient) -> None:
    as_value = graphql_body(condition('"job_id"', '"job\\u0000"', "EQ"))
    response = await http.post("/graphql", content=as_value, headers={"Content-Type": "application/json"})
    assert response.json() == {"data": {"jobs": {"totalCount": 0}}}  # no job id holds a NUL
    for body in (
        graphql_body(condition('"job_id\\u0000"', '"x"', "EQ")),
        graphql_body(condition('"job_id"', '"a\\u0000"', "REGEX")),
        graphql_body(stage('{"group": {"keys": [{"key": "status", "name": "a\\u0000"}]}}'), STATS),
    ):
        response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error


# name → (REST path, JSON body text)
REST_BODIES: dict[str, tuple[str, str]] = {
    "domain_id": ("/search", '{"domain_id": "%s"}' % LONE),
    "a filter key": (
        "/search",
        '{"domain_id": "%s", "query": {"filter": [{"k": "%s", "v": 1, "o": "eq"}]}}' % (DOMAIN, LONE),
    ),
    "a keyword": ("/search", '{"domain_id": "%s", "query": {"keyword": "a%s"}}' % (DOMAIN, LONE)),
    "a huge page limit": ("/search", '{"domain_id": "%s", "query": {"page": {"limit": %s}}}' % (DOMAIN, BIG)),
    "a stat group name": (
        "/stat",
        '{"domain_id": "%s", "query": {"aggregate": [{"group": {"keys": [{"key": "status", "name": "%s"}]}}]}}'
        % (DOMAIN, LONE),
    ),
    "a stat distinct": ("/stat", '{"domain_id": "%s", "query": {"distinct": "%s"}}' % (DOMAIN, LONE)),
    "a stat huge number": (
        "/stat",
        '{"domain_id": "%s", "query": {"aggregate": [{"limit": %s}]}}' % (DOMAIN, BIG),
    ),
}


@pytest.mark.parametrize("name", REST_BODIES)
async def test_a_rest_body_with_text_or_numbers_it_cannot_hold_is_a_spaceone_400(
    http: httpx.AsyncClient, name: str
) -> None:
    path, body = REST_BODIES[name]
    response = await http.post(REST + path, content=body, headers={"Content-Type": "application/json"})
    refused = assert_coded_refusal(response, "the request body")
    assert refused["error"]["code"] == "ERROR_INVALID_PARAMETER"


@pytest.mark.parametrize("query", ['{"keyword": "%s"}' % LONE, '{"page": {"limit": %s}}' % BIG])
async def test_the_rest_query_parameter_is_checked_like_a_body(http: httpx.AsyncClient, query: str) -> None:
    response = await http.get(REST, params={"domain_id": DOMAIN, "query": query})
    assert_coded_refusal(response, "the 'query' parameter")


def test_the_decoder_keeps_exact_integers_up_to_the_limit_and_names_every_refusal() -> None:
    longest = "7" * MAX_NUMBER_DIGITS
    assert loads_request_json('{"n": %s}' % longest, "it") == {"n": int(longest)}
    assert loads_request_json(b'["\\ud83d\\ude00", "a\\u0000"]', "it") == ["\U0001f600", "a\x00"]
    refusals = {
        '{"a": [1, {"b": "%s"}]}' % LONE: "it contains a lone surrogate (U+D800) at a[1].b",
        '{"%s": 1}' % LOW: "it contains a lone surrogate (U+DFFF) at \\udfff",
        "[%s]" % BIG: f"it holds a number of more than {MAX_NUMBER_DIGITS} digits",
        "[" * 50 + "]" * 50: "it is nested deeper than 32 levels",
        "[" * 100_000 + "]" * 100_000: "it is nested deeper than 32 levels",
        b'"\xff"': "it is not valid UTF-8",
        '{"a": 1,}': "it is not valid JSON",
    }
    for text, message in refusals.items():
        with pytest.raises(JSONInputError) as refused:
            loads_request_json(text, "it", max_depth=32)
        assert refused.value.message.startswith(message), (text[:40], refused.value.message)


# tokens and request ids: odd bytes in headers ---------------------------------------------------

PAIR = KeyPair.rsa("k1")


@pytest.fixture
async def jwt_http(mock_db: Any, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        mongodb_uri="mongodb://unused.invalid",
        demo_jobs=0,
        auth="jwt",
        jwt_keys=str(write_jwks(tmp_path / "jwks.json", PAIR)),
    )
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        yield client


ODD_TOKENS = [
    b"Bearer \xff\xfe\x80",
    b"Bearer " + b"a" * 20_000,
    b"Bearer a.b.c",
    b"Bearer \xed\xa0\x80.e30.e30",
    b"Bearer eyJ" + b"9" * 5000 + b".e30.e30",
    b"Basic \x00",
    b"\xc3\xa9",
]


@pytest.mark.parametrize("token", ODD_TOKENS, ids=range(len(ODD_TOKENS)))
async def test_an_odd_authorization_header_is_unauthenticated(
    jwt_http: httpx.AsyncClient, token: bytes
) -> None:
    for method, path in (("POST", "/graphql"), ("POST", REST + "/search")):
        response = await jwt_http.request(
            method,
            path,
            content=json.dumps({"query": "{ __typename }", "domain_id": DOMAIN}),
            headers=[(b"content-type", b"application/json"), (b"authorization", token)],
        )
        assert response.status_code == 401, response.text
        assert "Traceback" not in response.text


@pytest.mark.parametrize("request_id", [b"\xff\xfe", b"a" * 5000, b"id with spaces", b"\xed\xa0\x80"])
async def test_an_odd_request_id_is_replaced_by_a_fresh_one(http: httpx.AsyncClient, request_id: bytes) -> None:
    response = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers=[(b"x-request-id", request_id)]
    )
    assert response.status_code == 200
    fresh = response.headers["x-request-id"]
    assert fresh.encode() != request_id and len(fresh) == 32 and fresh.isalnum()


# over a real socket: the kept-alive connection survives a refused request ------------------------

KEPT_ALIVE_PROBES: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("POST", "/graphql", GRAPHQL_BODIES["operationName"][0].encode(), {}),
    ("POST", "/graphql", GRAPHQL_BODIES["a huge integer variable"][0].encode(), {}),
    ("POST", "/graphql", GRAPHQL_BODIES["a group key"][0].encode(), {}),
    ("GET", "/graphql?query=%7B__typename%7D&variables=%7B%22x%22%3A" + BIG + "%7D", b"", {}),
    ("GET", "/graphql?query=%7B__typename%7D&extensions=%7B%22x%22%3A%22%5Cud800%22%7D", b"", {}),
    ("POST", REST + "/search", REST_BODIES["a huge page limit"][1].encode(), {}),
    ("POST", REST + "/stat", REST_BODIES["a stat group name"][1].encode(), {}),
    ("GET", REST + "?query=%7B%22keyword%22%3A%22%5Cud800%22%7D", b"", {}),
    ("POST", "/graphql", b'{"query": "{ __typename }"}', {"X-Request-Id": "\xff" * 300}),
    ("POST", "/graphql", b'{"query": "{ __typename }"}', {"Authorization": "Bearer \xff\x00"[:-1] * 100}),
]


def test_a_refused_or_odd_request_leaves_the_kept_alive_connection_answering(demo_gateway: LiveGateway) -> None:
    host, port = demo_gateway.url.removeprefix("http://").split(":")
    good = json.dumps({"query": "{ __typename }"}).encode()
    with httpcore.HTTPConnection(httpcore.Origin(b"http", host.encode(), int(port))) as connection:
        for method, target, body, headers in KEPT_ALIVE_PROBES:
            sent = [
                (b"content-type", b"application/json"),
                *((name.encode(), value.encode("latin-1")) for name, value in headers.items()),
            ]
            refused = connection.request(method, demo_gateway.url + target, headers=sent, content=body)
            # odd headers are data: the request is served (the id replaced, the token ignored)
            expected = range(200, 300) if headers else range(400, 500)
            assert refused.status in expected, (target, refused.status, refused.content[:200])
            assert b"Traceback" not in refused.content
            assert not connection.is_closed(), target
            answered = connection.request(
                "POST",
                demo_gateway.url + "/graphql",
                content=good,
                headers=[(b"content-type", b"application/json")],
            )
            assert answered.status == 200 and json.loads(answered.content) == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "literal",
    [
        'jobs(domainId: "%s", query: {page: {limit: %s}}) { totalCount }' % (DOMAIN, BIG),
        'jobs(domainId: "%s", query: {filter: [{k: "total_tasks", v: -%s, o: GT}]}) { totalCount }'
        % (DOMAIN, BIG),
        'jobs(domainId: "%s", query: {filter: [{k: "total_tasks", v: %s.5e3, o: GT}]}) { totalCount }'
        % (DOMAIN, BIG),
    ],
)
async def test_a_number_literal_too_long_to_read_is_a_parse_error(
    http: httpx.AsyncClient, literal: str
) -> None:
    response = await http.post("/graphql", json={"query": "{ %s }" % literal})
    refused = assert_coded_refusal(response, "number literal")
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_a_long_run_of_digits_inside_a_string_is_data(http: httpx.AsyncClient) -> None:
    query = '{ jobs(domainId: "%s", query: {filter: [{k: "job_id", v: "%s", o: EQ}]}) { totalCount } }' % (
        DOMAIN,
        BIG,
    )
    response = await http.post("/graphql", json={"query": query})
    assert response.json() == {"data": {"jobs": {"totalCount": 0}}}


@pytest.mark.parametrize("number", ["1e400", "-1e400", "99999999999999999999999", "1" + "0" * 4000])
async def test_a_rest_count_that_is_not_a_64_bit_integer_is_a_spaceone_400(
    http: httpx.AsyncClient, number: str
) -> None:
    bodies = {
        "/search": '{"domain_id": "%s", "query": {"page": {"limit": %s}}}' % (DOMAIN, number),
        "/stat": '{"domain_id": "%s", "query": {"aggregate": [{"limit": %s}]}}' % (DOMAIN, number),
    }
    for path, body in bodies.items():
        response = await http.post(REST + path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "ERROR_INVALID_PARAMETER" and len(error["message"]) < 200
    response = await http.get(REST, params={"domain_id": DOMAIN, "query.page.limit": number})
    assert response.status_code == 400 and response.json()["error"]["code"] == "ERROR_INVALID_PARAMETER"
