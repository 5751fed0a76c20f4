"""The GraphQL-over-HTTP working draft, rule by rule, against /graphql."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests import factories
from tests.conftest import DOMAIN, seed

GQL = "application/graphql-response+json"
JSON = "application/json"
TYPENAME = "{ __typename }"
COUNT = 'query Count { jobs(domainId: "%s") { totalCount } }' % DOMAIN
WITH_LIMIT = (
    'query Page($limit: Int!) { jobs(domainId: "%s", query: {page: {limit: $limit}}) '
    "{ results { jobId } } }" % DOMAIN
)


async def post(http: httpx.AsyncClient, body: Any, accept: str | None = GQL, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"content-type": JSON, **headers}
    if accept is not None:
        sent["accept"] = accept
    return await http.post("/graphql", content=content, headers=sent)


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


# media types and negotiation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GQL, GQL),
        (JSON, JSON),
        (None, GQL),  # no Accept: graphql-response+json since the 2025 watershed
        ("*/*", GQL),
        ("application/*", GQL),
        (f"{GQL}; charset=utf-8, {JSON}; charset=utf-8", GQL),
        (f"{JSON}, {GQL};q=0.5", JSON),
        (f"{GQL};q=0.2, {JSON};q=0.9", JSON),
        (f"text/html, {JSON};q=0.1", JSON),
    ],
)
async def test_the_response_uses_the_best_accepted_media_type(
    http: httpx.AsyncClient, accept: str | None, expected: str
) -> None:
    response = await post(http, {"query": TYPENAME}, accept=accept)
    assert response.status_code == 200
    assert media_type(response) == expected
    assert "charset=utf-8" in response.headers["content-type"]
    assert response.headers["vary"] == "Accept"
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", ["text/html", "application/xml", f"{GQL};q=0, {JSON};q=0"])
async def test_nothing_acceptable_is_406(http: httpx.AsyncClient, accept: str) -> None:
    response = await post(http, {"query": TYPENAME}, accept=accept)
    assert response.status_code == 406


async def test_the_response_is_utf8(http: httpx.AsyncClient, mock_db: Any) -> None:
    await seed(mock_db, [factories.job(DOMAIN, filters={"name": "café ☕"})])
    response = await post(http, {"query": '{ jobs(domainId: "%s") { results { filter } } }' % DOMAIN})
    assert response.content.decode("utf-8")
    assert response.json()["data"]["jobs"]["results"][0]["filter"] == {"name": "café ☕"}


# POST -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [JSON, f"{JSON}; charset=utf-8", "Application/JSON; charset=UTF-8", f'{JSON}; charset="utf-8"'],
)
async def test_json_bodies_in_utf8_are_accepted(http: httpx.AsyncClient, content_type: str) -> None:
    response = await post(http, {"query": TYPENAME}, **{"content-type": content_type})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        f"{JSON}; charset=latin-1",
        f"{JSON}; charset=utf-16",
    ],
)
async def test_other_content_types_and_charsets_are_415(http: httpx.AsyncClient, content_type: str) -> None:
    response = await post(http, {"query": TYPENAME}, **{"content-type": content_type})
    assert response.status_code == 415
    assert "data" not in response.json()


async def test_a_post_without_content_type_is_415(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", content=b'{"query": "{ __typename }"}', headers={"accept": GQL})
    assert response.status_code == 415


@pytest.mark.parametrize("accept", [GQL, JSON])
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{ "not a JSON',
        b"NONSENSE",
        b"[]",
        b'[{"query": "{ __typename }"}]',
        b"7",
        b'"{ __typename }"',
        b"null",
        '{"query": "{ caf\xe9 }"}'.encode("latin-1"),
    ],
)
async def test_a_body_that_is_not_a_json_object_in_utf8_is_400(
    http: httpx.AsyncClient, body: bytes, accept: str
) -> None:
    response = await post(http, body, accept=accept)
    assert response.status_code == 400
    assert "data" not in response.json()
    assert codes(response) == ["BAD_REQUEST"]


@pytest.mark.parametrize("accept", [GQL, JSON])
@pytest.mark.parametrize(
    "body",
    [
        {"qeury": TYPENAME},
        *({"query": bad} for bad in ({"obj": "ect"}, 0, False, ["array"])),
        *({"query": TYPENAME, "operationName": bad} for bad in ({"obj": "ect"}, 0, False, ["array"])),
        *({"query": TYPENAME, "variables": bad} for bad in ("string", 0, False, ["array"])),
        *({"query": TYPENAME, "extensions": bad} for bad in ("string", 0, False, ["array"])),
    ],
)
async def test_parameters_of_the_wrong_type_are_400_without_data(
    http: httpx.AsyncClient, body: dict[str, Any], accept: str
) -> None:
    response = await post(http, body, accept=accept)
    assert response.status_code == 400
    assert "data" not in response.json()


@pytest.mark.parametrize("accept", [GQL, JSON])
@pytest.mark.parametrize("parameter", ["variables", "operationName", "extensions"])
async def test_null_optional_parameters_mean_absent(
    http: httpx.AsyncClient, parameter: str, accept: str
) -> None:
    response = await post(http, {"query": TYPENAME, parameter: None}, accept=accept)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_map_variables_and_extensions_are_used(http: httpx.AsyncClient, mock_db: Any) -> None:
    jobs = [factories.job(DOMAIN) for _ in range(5)]
    await seed(mock_db, jobs)
    response = await post(
        http, {"query": WITH_LIMIT, "variables": {"limit": 2}, "extensions": {"some": "value"}}
    )
    newest = sorted(jobs, key=lambda job: job["created_at"], reverse=True)[:2]
    assert response.json() == {"data": {"jobs": {"results": [{"jobId": job["job_id"]} for job in newest]}}}


# request errors: 4xx without data under graphql-response+json, 200 under application/json ---

REQUEST_ERRORS = [
    ({"query": "{"}, "GRAPHQL_PARSE_FAILED"),
    ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
    ({"query": "mutation { x }"}, "GRAPHQL_VALIDATION_FAILED"),
    ({"query": WITH_LIMIT, "variables": {"limit": "two"}}, "BAD_USER_INPUT"),
    ({"query": WITH_LIMIT}, "BAD_USER_INPUT"),  # a required variable missing
    ({"query": "query A { __typename } query B { __typename }"}, "OPERATION_RESOLUTION_FAILURE"),
    ({"query": COUNT, "operationName": "Other"}, "OPERATION_RESOLUTION_FAILURE"),
]


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
async def test_request_errors_are_400_without_data_under_graphql_response_json(
    http: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    response = await post(http, body, accept=GQL)
    assert response.status_code == 400
    assert media_type(response) == GQL
    assert "data" not in response.json()
    assert codes(response)[0] == code


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
async def test_request_errors_are_200_under_application_json(
    http: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    response = await post(http, body, accept=JSON)
    assert response.status_code == 200
    assert media_type(response) == JSON
    assert "data" not in response.json()
    assert codes(response)[0] == code


@pytest.mark.parametrize("accept", [GQL, JSON])
async def test_field_errors_keep_data_and_200(http: httpx.AsyncClient, accept: str) -> None:
    response = await post(http, {"query": "{ jobs { totalCount } }"}, accept=accept)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert codes(response) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["path"] == ["jobs"]


async def test_the_named_operation_runs(http: httpx.AsyncClient, mock_db: Any) -> None:
    await seed(mock_db, [factories.job(DOMAIN) for _ in range(3)])
    document = COUNT + " query Other { __typename }"
    counted = await post(http, {"query": document, "operationName": "Count"})
    other = await post(http, {"query": document, "operationName": "Other"})
    assert counted.json() == {"data": {"jobs": {"totalCount": 3}}}
    assert other.json() == {"data": {"__typename": "Query"}}


# GET ------------------------------------------------------------------------------------


async def test_get_runs_queries_with_url_encoded_variables(http: httpx.AsyncClient, mock_db: Any) -> None:
    jobs = [factories.job(DOMAIN) for _ in range(3)]
    await seed(mock_db, jobs)
    response = await http.get(
        "/graphql",
        params={"query": WITH_LIMIT, "variables": json.dumps({"limit": 1}), "operationName": "Page"},
        headers={"accept": GQL},
    )
    newest = max(jobs, key=lambda job: job["created_at"])
    assert response.status_code == 200
    assert response.json() == {"data": {"jobs": {"results": [{"jobId": newest["job_id"]}]}}}


async def test_an_empty_operation_name_over_get_means_none(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": TYPENAME, "operationName": ""})
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [GQL, JSON])
async def test_a_mutation_over_get_is_405_and_not_executed(http: httpx.AsyncClient, accept: str) -> None:
    response = await http.get("/graphql", params={"query": "mutation { x }"}, headers={"accept": accept})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "data" not in response.json()


async def test_the_operation_chosen_decides_what_get_may_run(http: httpx.AsyncClient) -> None:
    document = "query Q { __typename } mutation M { x }"
    query = await http.get("/graphql", params={"query": document, "operationName": "Q"})
    mutation = await http.get("/graphql", params={"query": document, "operationName": "M"})
    assert mutation.status_code == 405  # refused before validation, by the operation's type
    assert query.status_code == 400  # allowed over GET, but the whole document must validate
    assert codes(query) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(
    "params",
    [
        {"query": TYPENAME, "variables": "{not json"},
        {"query": TYPENAME, "variables": "[1]"},
        {"query": TYPENAME, "extensions": "7"},
        {"operationName": "Q"},
    ],
)
async def test_bad_get_parameters_are_400(http: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await http.get("/graphql", params=params, headers={"accept": GQL})
    assert response.status_code == 400
    assert "data" not in response.json()


async def test_a_parameter_given_twice_is_400(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql?query=%7B__typename%7D&query=%7B__typename%7D")
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
async def test_other_methods_are_405_with_allow(http: httpx.AsyncClient, method: str) -> None:
    response = await http.request(method, "/graphql", headers={"accept": GQL})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_a_browser_gets_graphiql_and_a_client_gets_json(http: httpx.AsyncClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = await http.get("/graphql", headers={"accept": browser})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "graphiql" in page.text.lower()
    answer = await http.get("/graphql", params={"query": TYPENAME}, headers={"accept": browser})
    assert media_type(answer) == GQL
    assert answer.json() == {"data": {"__typename": "Query"}}
