"""Security over HTTP: tokens, tenant scope, operator injection, cost limits, error masking,
introspection and GraphiQL switches, CORS. Each refusal is clean and the gateway keeps serving."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from mongomock_motor import AsyncMongoMockCollection
from pymongo.errors import ExecutionTimeout

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.mongo.repository import JobRepository
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, seed
from tests.tokens import KeyPair, bearer, claims, hmac_token, unsigned_token, write_jwks

JOBS = """
query($query: SearchQuery, $domain: String) {
  jobs(domainId: $domain, query: $query) { totalCount results { jobId domainId } }
}
"""
JOB = "query($id: ID!, $domain: String) { job(jobId: $id, domainId: $domain) { jobId domainId } }"
PAIR = KeyPair.rsa("k1")

AppFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def data(mock_db: Any) -> dict[str, list[dict[str, Any]]]:
    jobs = {d: [factories.job(d, status="ERROR") for _ in range(3)] for d in (DOMAIN, OTHER_DOMAIN)}
    await seed(mock_db, [*jobs[DOMAIN], *jobs[OTHER_DOMAIN]])
    return jobs


@pytest.fixture
async def gateway(mock_db: Any, tmp_path: Path) -> AsyncIterator[AppFactory]:
    """Builds an app over the mock database with the given settings overrides."""
    clients: list[httpx.AsyncClient] = []

    def build(**overrides: Any) -> httpx.AsyncClient:
        if overrides.pop("jwt", False):
            overrides.update(auth="jwt", jwt_keys=str(write_jwks(tmp_path / "jwks.json", PAIR)))
        settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0, **overrides)
        app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


GRAPHQL_RESPONSE = "application/graphql-response+json"


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST under ``application/graphql-response+json`` (request errors get 4xx statuses)."""
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Accept": GRAPHQL_RESPONSE, **(headers or {})},
    )
    return response.status_code, response.json()


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def job_ids(documents: list[dict[str, Any]]) -> set[str]:
    return {document["job_id"] for document in documents}


# authentication ----------------------------------------------------------------------------


async def test_with_a_token_the_domain_is_the_tokens(gateway: AppFactory, data: Any) -> None:
    client = gateway(jwt=True)
    token = bearer(PAIR.token(claims(DOMAIN)))
    status, body = await post(client, JOBS, {}, token)
    assert status == 200
    assert {r["jobId"] for r in body["data"]["jobs"]["results"]} == job_ids(data[DOMAIN])
    status, body = await post(client, JOBS, {"domain": DOMAIN}, token)
    assert body["data"]["jobs"]["totalCount"] == len(data[DOMAIN])


async def test_another_domain_id_than_the_tokens_is_forbidden(gateway: AppFactory, data: Any) -> None:
    client = gateway(jwt=True)
    token = bearer(PAIR.token(claims(DOMAIN)))
    other_job = data[OTHER_DOMAIN][0]["job_id"]
    for query, variables in (
        (JOBS, {"domain": OTHER_DOMAIN}),
        (JOB, {"id": other_job, "domain": OTHER_DOMAIN}),
    ):
        status, body = await post(client, query, variables, token)
        assert codes(body) == ["FORBIDDEN"]
        assert body["errors"][0]["extensions"]["spaceoneCode"] == "ERROR_PERMISSION_DENIED"
        assert other_job not in str(body)
    # and a job of the other domain does not exist for this caller
    status, body = await post(client, JOB, {"id": other_job}, token)
    assert body == {"data": {"job": None}}


READ_PATHS = {
    "jobs": (JOBS, {}),
    "job": (JOB, {"id": "job-x"}),
    "jobsConnection": ("query($domain: String) { jobsConnection(domainId: $domain) { totalCount } }", {}),
    "jobStats": (
        'query($domain: String) { jobStats(domainId: $domain, query: {distinct: "status"}) { results } }',
        {},
    ),
    "jobSummary": ("query($domain: String) { jobSummary(domainId: $domain) { totalCount } }", {}),
    "jobTimeline": ("query($domain: String) { jobTimeline(domainId: $domain, interval: DAY) { count } }", {}),
}


@pytest.mark.parametrize("path", sorted(READ_PATHS))
async def test_every_read_path_refuses_another_domain_and_a_missing_token(
    gateway: AppFactory, data: Any, path: str
) -> None:
    client = gateway(jwt=True)
    query, variables = READ_PATHS[path]
    token = bearer(PAIR.token(claims(DOMAIN)))
    status, body = await post(client, query, {**variables, "domain": OTHER_DOMAIN}, token)
    assert codes(body) == ["FORBIDDEN"] and (body.get("data") or {}).get(path) is None
    status, body = await post(client, query, {**variables, "domain": DOMAIN})
    assert status == 401 and codes(body) == ["UNAUTHENTICATED"]
    status, body = await post(client, query, variables, token)
    assert status == 200 and "errors" not in body


async def test_rest_routes_need_a_token_and_keep_to_its_domain(gateway: AppFactory, data: Any) -> None:
    client = gateway(jwt=True)
    token = bearer(PAIR.token(claims(DOMAIN)))
    for method, path in (("GET", "/power-scheduler/v1/jobs"), ("POST", "/power-scheduler/v1/jobs/search")):
        response = await client.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "ERROR_AUTHENTICATE_FAILURE"
        response = await client.request(
            method,
            path,
            headers=token,
            params={"domain_id": OTHER_DOMAIN} if method == "GET" else None,
            json={"domain_id": OTHER_DOMAIN} if method == "POST" else None,
        )
        assert response.status_code == 403
        response = await client.request(method, path, headers=token, json={} if method == "POST" else None)
        assert response.status_code == 200
        assert {job["job_id"] for job in response.json()["results"]} == job_ids(data[DOMAIN])


@pytest.mark.parametrize(
    "case",
    ["missing", "expired", "wrong key", "alg none", "confusion", "no did", "not bearer", "wrong algorithm"],
)
async def test_bad_tokens_fail_the_whole_request_with_401(gateway: AppFactory, data: Any, case: str) -> None:
    import time  # noqa: PLC0415

    client = gateway(jwt=True)
    headers = {
        "missing": {},
        "expired": bearer(PAIR.token(claims(exp=int(time.time()) - 3600))),
        "wrong key": bearer(KeyPair.rsa("k1").token(claims())),
        "alg none": bearer(unsigned_token({**claims(), "kid": "k1"})),
        "confusion": bearer(hmac_token(claims(), PAIR.public_pem(), kid="k1")),
        "no did": bearer(PAIR.token(claims(domain=None))),
        "not bearer": {"Authorization": PAIR.token(claims())},
        "wrong algorithm": bearer(PAIR.token(claims(), algorithm="PS256")),
    }[case]
    status, body = await post(client, JOBS, {"domain": DOMAIN}, headers)
    assert status == 401
    assert "data" not in body  # nothing was executed
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["extensions"]["spaceoneCode"] == "ERROR_AUTHENTICATE_FAILURE"
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": "application/json", **headers}
    )
    assert response.status_code == 200  # application/json: errors travel with 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")
    # the gateway keeps serving a good token
    status, body = await post(client, JOBS, {}, bearer(PAIR.token(claims(DOMAIN))))
    assert body["data"]["jobs"]["totalCount"] == len(data[DOMAIN])


async def test_the_context_carries_the_refusal_for_other_routes(gateway: AppFactory) -> None:
    from gateway.context import GatewayContext  # noqa: PLC0415
    from gateway.errors import Unauthenticated  # noqa: PLC0415

    client = gateway(jwt=True)
    app = client._transport.app  # type: ignore[attr-defined]
    refused = app.state.authenticator
    with pytest.raises(Unauthenticated):
        refused.principal_for("Bearer nonsense")
    context = GatewayContext(
        settings=app.state.settings,
        database=None,
        principal=refused.principal_for(bearer(PAIR.token(claims()))["Authorization"]),
        auth_error=Unauthenticated("no token"),
    )
    with pytest.raises(Unauthenticated):
        context.check_authenticated()


async def test_graphiql_page_needs_no_token(gateway: AppFactory) -> None:
    client = gateway(jwt=True)
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


async def test_open_mode_beyond_loopback_logs_a_warning(
    gateway: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway"):
        gateway(host="0.0.0.0")
    assert any("GATEWAY_AUTH=none" in record.message for record in caplog.records)


# operator injection and value checks -------------------------------------------------------


def condition(k: str, v: Any, o: str) -> dict[str, Any]:
    return {"query": {"filter": [{"k": k, "v": v, "o": o}]}, "domain": DOMAIN}


INJECTIONS = [
    ("$ key deep in an in-list", condition("status", ["ERROR", {"$ne": None}], "IN")),
    ("$ key in a contain_in list", condition("job_id", [{"$regex": "."}], "CONTAIN_IN")),
    ("$ key nested in a match value", condition("errors", {"additional": {"$gt": ""}}, "MATCH")),
    ("$ key in a dotted match key", condition("errors", {"additional.$where": "1"}, "MATCH")),
    ("$ key as a match field", condition("filter", {"$or": [{}]}, "MATCH")),
    (
        "$ key in a filter-or value",
        {"query": {"filterOr": [{"k": "status", "v": {"$exists": 1}, "o": "NOT"}]}, "domain": DOMAIN},
    ),
    ("NUL in a field path", condition("filter.reg\u0000ion", "x", "EQ")),
    ("$ segment in a controller path", condition("controller_info.tags.$where", "x", "EQ")),
    ("empty path segment", condition("filter..x", "x", "EQ")),
    ("over-long field path", condition("filter." + "a" * 600, "x", "EQ")),
    ("sort by an operator", {"query": {"sort": {"keys": [{"key": "$where"}]}}, "domain": DOMAIN}),
    ("sort by a free path with $", {"query": {"sort": {"key": "filter.$natural"}}, "domain": DOMAIN}),
    ("sort by a controller field", {"query": {"sort": {"key": "controller_info.name"}}, "domain": DOMAIN}),
    ("sort key with NUL", {"query": {"sort": {"key": "status\u0000"}}, "domain": DOMAIN}),
    ("only with an operator", {"query": {"only": ["$where"]}, "domain": DOMAIN}),
    ("over-long regex", condition("job_id", "a" * 257, "REGEX")),
    ("over-long regex in a list", condition("job_id", ["a", "b" * 257], "REGEX_IN")),
    ("over-long generated regex", condition("job_id", "a" * 257, "CONTAIN")),
    ("over-long generated regexes", condition("job_id", ["c" * 257], "NOT_CONTAIN_IN")),
    ("over-long keyword", {"query": {"keyword": "k" * 257}, "domain": DOMAIN}),
    ("too many values", condition("job_id", [f"job-{i}" for i in range(1001)], "IN")),
    ("too many match fields", condition("errors", {f"f{i}": 1 for i in range(1001)}, "MATCH")),
    (
        "too many conditions",
        {"query": {"filter": [{"k": "status", "v": "ERROR", "o": "EQ"}] * 51}, "domain": DOMAIN},
    ),
]


@pytest.mark.parametrize("variables", [c[1] for c in INJECTIONS], ids=[c[0] for c in INJECTIONS])
async def test_client_values_never_become_operators_or_paths(
    mock_client: Any, data: Any, variables: dict[str, Any]
) -> None:
    body = await mock_client(JOBS, variables)
    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "spaceoneCode" in body["errors"][0]["extensions"]
    ok = await mock_client(JOBS, {"domain": DOMAIN})
    assert ok["data"]["jobs"]["totalCount"] == len(data[DOMAIN])


STATS = "query($q: StatisticsQuery!, $d: String) { jobStats(query: $q, domainId: $d) { results } }"
TYPED = {
    "jobsConnection": "query($f: JobFilter, $d: String) { jobsConnection(filter: $f, domainId: $d) "
    "{ totalCount } }",
    "jobSummary": "query($f: JobFilter, $d: String) { jobSummary(filter: $f, domainId: $d) { totalCount } }",
    "jobTimeline": "query($f: JobFilter, $d: String) { jobTimeline(filter: $f, domainId: $d, "
    "interval: DAY) { count } }",
}
GROUP_COUNT = {"operator": "COUNT", "name": "n"}
STATS_INJECTIONS = [
    (
        "$ in a group key name",
        {"aggregate": [{"group": {"keys": [{"key": "status", "name": "$x"}], "fields": [GROUP_COUNT]}}]},
    ),
    (
        "$ in a group field name",
        {
            "aggregate": [
                {"group": {"keys": [{"key": "status", "name": "s"}], "fields": [{**GROUP_COUNT, "name": "$n"}]}}
            ]
        },
    ),
    (
        "dotted field name",
        {"aggregate": [{"group": {"keys": [{"key": "status", "name": "a.b"}], "fields": [GROUP_COUNT]}}]},
    ),
    (
        "$ in a group key",
        {"aggregate": [{"group": {"keys": [{"key": "$domain_id", "name": "d"}], "fields": [GROUP_COUNT]}}]},
    ),
    (
        "NUL in a group key",
        {"aggregate": [{"group": {"keys": [{"key": "filter.a\u0000", "name": "d"}], "fields": [GROUP_COUNT]}}]},
    ),
    ("$ in an unwind path", {"aggregate": [{"unwind": {"path": "$errors"}}]}),
    ("$ in a count name", {"aggregate": [{"count": {"name": "$where"}}]}),
    ("$ in a distinct key", {"distinct": "$domain_id"}),
    (
        "$ in a v of a stats filter",
        {"filter": [{"k": "status", "v": {"$ne": 1}, "o": "EQ"}], "distinct": "status"},
    ),
    ("too many stages", {"aggregate": [{"limit": 5}] * 21}),
]


@pytest.mark.parametrize("query", [c[1] for c in STATS_INJECTIONS], ids=[c[0] for c in STATS_INJECTIONS])
async def test_statistics_names_and_keys_never_become_operators_or_paths(
    mock_client: Any, data: Any, query: dict[str, Any]
) -> None:
    body = await mock_client(STATS, {"q": query, "d": DOMAIN})
    assert body.get("data") is None
    assert codes(body)[0] in ("BAD_USER_INPUT", "QUERY_TOO_COMPLEX")
    ok = await mock_client(STATS, {"q": {"distinct": "status"}, "d": DOMAIN})
    assert ok["data"]["jobStats"]["results"] == ["ERROR"]


@pytest.mark.parametrize("path", sorted(TYPED))
@pytest.mark.parametrize(
    "job_filter",
    [
        {"jobId": {"contains": "a" * 257}},
        {"errorCode": {"startsWith": "b" * 257}},
        {"keyword": "k" * 257},
        {"jobId": {"in": [f"j{i}" for i in range(1001)]}},
        {"or": [{"jobId": {"eq": "x"}}] * 51},
    ],
    ids=["contains", "startsWith", "keyword", "values", "conditions"],
)
async def test_typed_filters_are_bounded_on_every_path(
    mock_client: Any, data: Any, path: str, job_filter: dict[str, Any]
) -> None:
    body = await mock_client(TYPED[path], {"f": job_filter, "d": DOMAIN})
    assert body.get("data") is None
    assert codes(body) == ["BAD_USER_INPUT"]
    ok = await mock_client(TYPED["jobsConnection"], {"f": {}, "d": DOMAIN})
    assert ok["data"]["jobsConnection"]["totalCount"] == len(data[DOMAIN])


async def test_operator_looking_strings_are_plain_data(mock_client: Any, data: Any, mock_db: Any) -> None:
    odd = factories.job(DOMAIN, job_id="$where", filters={"q": {"$gt": ""}})
    await seed(mock_db, [odd])
    body = await mock_client(JOBS, condition("job_id", "$where", "EQ"))
    assert [r["jobId"] for r in body["data"]["jobs"]["results"]] == ["$where"]
    body = await mock_client(JOB, {"id": '{"$ne": null}', "domain": DOMAIN})
    assert body == {"data": {"job": None}}
    body = await mock_client(
        JOBS, {"query": {"filter": [{"k": "domain_id", "v": OTHER_DOMAIN, "o": "EQ"}]}, "domain": DOMAIN}
    )
    assert body["data"]["jobs"] == {"totalCount": 0, "results": []}


# cost limits --------------------------------------------------------------------------------


LIMITS = [
    (
        "depth",
        {"max_query_depth": 3},
        '{ jobs(domainId: "%s") { results { controllerInfo { pluginInfo { pluginId } } } } }' % DOMAIN,
        "GATEWAY_MAX_QUERY_DEPTH",
    ),
    (
        "tokens",
        {"max_query_tokens": 60},
        "{ " + " ".join(f"f{i}: __typename" for i in range(30)) + " }",
        "GATEWAY_MAX_QUERY_TOKENS",
    ),
    (
        "aliases",
        {"max_aliases": 3},
        "{ " + " ".join(f"a{i}: __typename" for i in range(4)) + " }",
        "GATEWAY_MAX_ALIASES",
    ),
    (
        "root fields",
        {"max_root_fields": 2},
        "{ " + " ".join(f'a{i}: jobs(domainId: "{DOMAIN}") {{ totalCount }}' for i in range(3)) + " }",
        "GATEWAY_MAX_ROOT_FIELDS",
    ),
    (
        "root fields through fragments",
        {"max_root_fields": 2},
        'query { ...F } fragment F on Query { a: jobs(domainId: "%s") { totalCount } '
        'b: jobs(domainId: "%s") { totalCount } ...G } fragment G on Query { c: job(jobId: "x", '
        'domainId: "%s") { jobId } }' % (DOMAIN, DOMAIN, DOMAIN),
        "GATEWAY_MAX_ROOT_FIELDS",
    ),
    (
        "input nesting",
        {"max_input_depth": 4},
        '{ jobs(domainId: "%s", query: {filter: [{k: "filter.a", v: [[[["x"]]]], o: IN}]}) '
        "{ totalCount } }" % DOMAIN,
        "GATEWAY_MAX_INPUT_DEPTH",
    ),
    (
        "document nesting",
        {},
        '{ jobs(domainId: "%s", query: {filter: [{k: "a", v: %s, o: IN}]}) '
        "{ totalCount } }" % (DOMAIN, "[" * 200 + "]" * 200),
        "GATEWAY_MAX_INPUT_DEPTH",
    ),
]


@pytest.mark.parametrize(("overrides", "query", "setting"), [c[1:] for c in LIMITS], ids=[c[0] for c in LIMITS])
async def test_expensive_documents_are_refused_naming_the_limit(
    gateway: AppFactory, data: Any, overrides: dict[str, Any], query: str, setting: str
) -> None:
    client = gateway(**overrides)
    status, body = await post(client, query)
    assert status == 400
    assert "data" not in body  # refused before execution
    assert set(codes(body)) == {"QUERY_TOO_COMPLEX"}
    assert setting in body["errors"][0]["message"]
    status, body = await post(client, JOBS, {"domain": DOMAIN})
    assert body["data"]["jobs"]["totalCount"] == len(data[DOMAIN])


def page_cost(jobs: int, per_job: int) -> int:
    """The estimate of ``jobs { results { … } }`` by the schema's directives: JobsInfo (1) and
    ``jobs`` pages of Job (1) with ``per_job`` objects each."""
    return 1 + jobs * (1 + per_job)


COSTS = [
    (
        "page sizes times nested lists",
        150,
        '{ jobs(domainId: "%s", query: {page: {limit: 100}}) { results { jobId errors { errorCode } } } }'
        % DOMAIN,
        page_cost(100, 1),
    ),
    (
        "over aliases",
        250,
        "{ " + " ".join(f'a{i}: jobs(domainId: "{DOMAIN}") {{ results {{ jobId }} }}' for i in range(3)) + " }",
        3 * page_cost(100, 0),
    ),
    (
        "connection edges and nodes",
        500,
        '{ jobsConnection(domainId: "%s", first: 200) { edges { node { jobId } } nodes { jobId } } }' % DOMAIN,
        1 + 200 * 2 + 200,
    ),
]


@pytest.mark.parametrize(("limit", "query", "estimate"), [c[1:] for c in COSTS], ids=[c[0] for c in COSTS])
async def test_operations_estimated_too_expensive_are_refused_naming_estimate_and_limit(
    gateway: AppFactory, data: Any, limit: int, query: str, estimate: int
) -> None:
    client = gateway(max_cost=limit)
    status, body = await post(client, query)
    assert status == 400
    assert "data" not in body  # refused before execution
    assert codes(body) == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    [error] = body["errors"]
    assert f"estimated cost is {estimate}," in error["message"]
    assert f"limit of {limit} (GATEWAY_MAX_COST" in error["message"]
    assert error["extensions"]["cost"] == {"estimated": estimate, "limit": limit}
    status, body = await post(gateway(max_cost=estimate), query)
    assert status == 200 and "errors" not in body


async def test_the_estimate_counts_page_sizes_given_in_variables(gateway: AppFactory, data: Any) -> None:
    client = gateway(max_cost=2000)
    small = {"domain": DOMAIN, "query": {"page": {"limit": 1000}}}
    status, body = await post(client, JOBS, small)
    assert body["data"]["jobs"]["totalCount"] == len(data[DOMAIN])
    query = JOBS.replace("results { jobId domainId }", "results { jobId errors { errorCode } }")
    status, body = await post(client, query, small)
    assert codes(body) == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    assert f"estimated cost is {page_cost(1000, 1)}," in body["errors"][0]["message"]


async def test_the_same_document_is_priced_by_each_request_s_variables(gateway: AppFactory, data: Any) -> None:
    """The plan is read once per document; page sizes come from each request."""
    client = gateway(max_cost=page_cost(150, 1))
    query = JOBS.replace("results { jobId domainId }", "results { jobId errors { errorCode } }")
    for limit, refused in ((100, False), (200, True), (150, False), (151, True), (0, False)):
        status, body = await post(client, query, {"domain": DOMAIN, "query": {"page": {"limit": limit}}})
        assert (codes(body) == ["COST_ESTIMATED_TOO_EXPENSIVE"]) is refused, (limit, body)
        if not refused:
            assert body["data"]["jobs"]["totalCount"] == len(data[DOMAIN])


async def test_deep_variables_are_refused(gateway: AppFactory) -> None:
    client = gateway(max_input_depth=6)
    v: Any = "x"
    for _ in range(8):
        v = [v]
    status, body = await post(client, JOBS, condition("job_id", v, "IN"))
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    deep = b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}"
    response = await client.post("/graphql", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_page_size_above_the_maximum_is_refused(gateway: AppFactory) -> None:
    client = gateway(max_page_size=50, default_page_size=20)
    status, body = await post(client, JOBS, {"domain": DOMAIN, "query": {"page": {"limit": 51}}})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "GATEWAY_MAX_PAGE_SIZE" in body["errors"][0]["message"]


async def test_oversized_bodies_get_413_with_or_without_content_length(gateway: AppFactory, data: Any) -> None:
    client = gateway(max_body_bytes=2048)
    big = {"query": "{ __typename }", "variables": {"pad": "x" * 4096}}
    response = await client.post("/graphql", json=big)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "GATEWAY_MAX_BODY_BYTES" in response.json()["errors"][0]["message"]

    async def chunks() -> AsyncIterator[bytes]:  # streamed: no Content-Length is sent
        for _ in range(8):
            yield b" " * 512
        yield b'{"query": "{ __typename }"}'

    response = await client.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    status, body = await post(client, JOBS, {"domain": DOMAIN})
    assert body["data"]["jobs"]["totalCount"] == len(data[DOMAIN])


async def test_a_server_side_timeout_is_reported_as_timeout(
    mock_client: Any, data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def timed_out(*_: Any, **__: Any) -> Any:
        raise ExecutionTimeout("operation exceeded time limit", 50)

    monkeypatch.setattr(AsyncMongoMockCollection, "count_documents", timed_out)
    body = await mock_client(JOBS, {"domain": DOMAIN})
    assert codes(body) == ["TIMEOUT"]
    assert "time limit" in body["errors"][0]["message"]
    assert "exceeded" not in body["errors"][0]["message"]


# error masking, introspection, GraphiQL ------------------------------------------------------


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    mock_client: Any, data: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("mongodb://admin:hunter2@db secret detail")

    monkeypatch.setattr(JobRepository, "search", broken)
    with caplog.at_level(logging.ERROR):
        response = await mock_client.http.post(
            "/graphql",
            json={"query": JOBS, "variables": {"domain": DOMAIN}},
            headers={"X-Request-Id": "req-42"},
        )
    body = response.json()
    assert body["errors"][0]["message"] == "Internal server error"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert "hunter2" not in response.text
    logged = [r for r in caplog.records if "req-42" in r.getMessage()]
    assert logged and logged[0].exc_info and "hunter2" in str(logged[0].exc_info[1])


async def test_a_malformed_request_id_is_replaced(
    mock_client: Any, data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(JobRepository, "search", broken)
    response = await mock_client.http.post(
        "/graphql",
        json={"query": JOBS, "variables": {"domain": DOMAIN}},
        headers={"X-Request-Id": "evil\rinjected log line" + "x" * 100},
    )
    request_id = response.json()["errors"][0]["extensions"]["requestId"]
    assert request_id.isalnum() and len(request_id) == 32


async def test_introspection_and_suggestions_can_be_switched_off(gateway: AppFactory, data: Any) -> None:
    open_client, closed = gateway(), gateway(introspection=False)
    query = "{ __schema { queryType { name } } }"
    assert (await post(open_client, query))[1]["data"]["__schema"]["queryType"]["name"] == "Query"
    status, body = await post(closed, query)
    assert status == 400 and set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
    typo = '{ jbs(domainId: "x") { totalCount } }'
    assert "Did you mean" in (await post(open_client, typo))[1]["errors"][0]["message"]
    status, body = await post(closed, typo)
    assert "Did you mean" not in str(body) and "jobs" not in body["errors"][0]["message"]
    status, body = await post(
        closed, JOBS, {"domain": DOMAIN, "query": {"filter": [{"k": "status", "v": "ERROR", "o": "EQQ"}]}}
    )
    assert codes(body) == ["BAD_USER_INPUT"] and "Did you mean" not in str(body)
    status, body = await post(closed, "{ __typename }")
    assert body == {"data": {"__typename": "Query"}}


async def test_graphiql_can_be_switched_off(gateway: AppFactory) -> None:
    response = await gateway(graphiql=False).get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 404


# CORS ---------------------------------------------------------------------------------------


async def test_cors_allows_only_the_listed_origins(gateway: AppFactory) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    default = gateway()
    response = await default.options("/graphql", headers={"Origin": "https://app.example", **preflight})
    assert "access-control-allow-origin" not in response.headers
    client = gateway(cors_origins="https://app.example, https://ops.example")
    response = await client.options("/graphql", headers={"Origin": "https://ops.example", **preflight})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://ops.example"
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    response = await client.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in response.headers
    with pytest.raises(ValueError, match="explicit"):
        Settings(cors_origins="*")
