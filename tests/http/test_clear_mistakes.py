"""Mistakes explained: each front door names parameters its own way (REST in SpaceONE's snake_case,
GraphQL in camelCase), an unknown name comes back with the closest valid one (or the valid ones),
and malformed JSON says where it breaks. Expected guidance is derived here from the field catalogue
and from the standard library's own JSON error for the text sent."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.mongo.fields import FIELD_NAMES
from gateway.mongo.query import PUBLIC_OPERATORS
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, seed
from tests.tokens import KeyPair, bearer, claims, write_jwks

SEARCH = "/power-scheduler/v1/jobs/search"
LIST = "/power-scheduler/v1/jobs"
STAT = "/power-scheduler/v1/jobs/stat"
PLAIN = {"accept": "application/json"}


def closest(name: str) -> str:
    """The catalogue name nearest to ``name`` (the test's own look-up)."""
    matches = difflib.get_close_matches(name, FIELD_NAMES, n=1)
    assert matches, f"nothing in the catalogue is close to {name!r}"
    return matches[0]


def position(text: str) -> str:
    """Where ``json.loads`` says ``text`` breaks."""
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads(text)
    error = caught.value
    return f"{error.msg} at line {error.lineno}, column {error.colno} (char {error.pos})"


async def rest_error(http: httpx.AsyncClient, path: str, body: Any) -> dict[str, Any]:
    response = await http.post(path, json=body)
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


async def graphql_errors(http: httpx.AsyncClient, query: str) -> list[dict[str, Any]]:
    response = await http.post("/graphql", json={"query": query}, headers=PLAIN)
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors


@pytest.fixture
async def jobs(mock_db: Any) -> None:
    await seed(mock_db, [factories.job(DOMAIN, status="ERROR"), factories.job(DOMAIN, status="SUCCESS")])


# each front door names the parameter its own way ----------------------------------------------


@pytest.mark.parametrize("path", [SEARCH, STAT])
async def test_a_missing_domain_is_named_domain_id_on_rest(http: httpx.AsyncClient, path: str) -> None:
    body = {"query": {"distinct": "status"}} if path == STAT else {}
    error = await rest_error(http, path, body)
    assert error == {"code": "ERROR_REQUIRED_PARAMETER", "message": "domain_id is required"}


async def test_a_missing_domain_is_named_domain_id_on_the_rest_get(http: httpx.AsyncClient) -> None:
    response = await http.get(LIST, params={"query.page.limit": "1"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "domain_id is required"


async def test_a_missing_domain_is_named_domain_id_in_graphql(http: httpx.AsyncClient) -> None:
    errors = await graphql_errors(http, "{ jobs { totalCount } }")
    assert [(e["message"], e["extensions"]["spaceoneCode"]) for e in errors] == [
        ("domainId is required", "ERROR_REQUIRED_PARAMETER")
    ]


async def test_another_domain_than_the_tokens_is_named_each_front_doors_way(
    mock_db: Any, tmp_path: Path
) -> None:
    pair = KeyPair.rsa("k1")
    settings = Settings(
        mongodb_uri="mongodb://unused.invalid",
        demo_jobs=0,
        auth="jwt",
        jwt_keys=str(write_jwks(tmp_path / "jwks.json", pair)),
    )
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    token = bearer(pair.token(claims(DOMAIN)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        rest = await http.post(SEARCH, json={"domain_id": OTHER_DOMAIN}, headers=token)
        graphql = await http.post(
            "/graphql",
            json={"query": '{ jobs(domainId: "%s") { totalCount } }' % OTHER_DOMAIN},
            headers={**token, **PLAIN},
        )
    assert rest.status_code == 403
    assert rest.json()["error"] == {
        "code": "ERROR_PERMISSION_DENIED",
        "message": "domain_id differs from the domain of the token",
    }
    assert [e["message"] for e in graphql.json()["errors"]] == ["domainId differs from the domain of the token"]


async def test_a_bad_date_format_is_named_date_format_on_rest_and_date_format_in_graphql(
    http: httpx.AsyncClient, jobs: None
) -> None:
    group = {
        "keys": [{"key": "created_at", "name": "day", "date_format": "%Q"}],
        "fields": [{"operator": "count", "name": "n"}],
    }
    error = await rest_error(http, STAT, {"domain_id": DOMAIN, "query": {"aggregate": [{"group": group}]}})
    assert error["code"] == "ERROR_INVALID_PARAMETER"
    assert error["message"].startswith("'aggregate[0].group.keys[0].date_format' '%Q' is not ")
    assert "dateFormat" not in error["message"]
    errors = await graphql_errors(
        http,
        '{ jobStats(domainId: "%s", query: {aggregate: [{group: {'
        'keys: [{key: "created_at", name: "day", dateFormat: "%%Q"}], '
        'fields: [{operator: COUNT, name: "n"}]}}]}) { results } }' % DOMAIN,
    )
    assert errors[0]["message"].startswith("'aggregate[0].group.keys[0].dateFormat' '%Q' is not ")


# unknown names: the closest valid one, or the valid ones ----------------------------------------


async def test_an_unknown_filter_key_suggests_the_closest_field_on_both_front_doors(
    http: httpx.AsyncClient, jobs: None
) -> None:
    expected = f"unknown field 'staus'; did you mean '{closest('staus')}'?"
    assert closest("staus") == "status"
    body = {"domain_id": DOMAIN, "query": {"filter": [{"k": "staus", "v": "ERROR", "o": "eq"}]}}
    assert await rest_error(http, SEARCH, body) == {"code": "ERROR_DB_QUERY", "message": expected}
    errors = await graphql_errors(
        http,
        '{ jobs(domainId: "%s", query: {filter: [{k: "staus", v: "ERROR", o: EQ}]}) { totalCount } }' % DOMAIN,
    )
    assert [e["message"] for e in errors] == [expected]


async def test_an_unknown_key_with_nothing_close_lists_the_top_level_fields(
    http: httpx.AsyncClient, jobs: None
) -> None:
    assert not difflib.get_close_matches("colour", FIELD_NAMES)
    top_level = ", ".join(dict.fromkeys(name.split(".")[0] for name in FIELD_NAMES))
    body = {"domain_id": DOMAIN, "query": {"filter": [{"k": "colour", "v": "red", "o": "eq"}]}}
    error = await rest_error(http, SEARCH, body)
    assert error["message"] == f"unknown field 'colour'; valid fields: {top_level}"


async def test_an_unknown_operator_lists_the_operators_or_names_the_closest(
    http: httpx.AsyncClient, jobs: None
) -> None:
    assert not difflib.get_close_matches("equals", PUBLIC_OPERATORS)
    condition = {"k": "status", "v": "ERROR", "o": "equals"}
    body = {"domain_id": DOMAIN, "query": {"filter": [condition]}}
    error = await rest_error(http, SEARCH, body)
    assert error == {
        "code": "ERROR_DB_QUERY",
        "message": "unknown operator 'equals' in the condition on "
        f"'status'; valid operators: {', '.join(PUBLIC_OPERATORS)}",
    }
    assert "starts_with" not in error["message"]  # internal operators are not offered
    nearest = difflib.get_close_matches("contians", PUBLIC_OPERATORS, n=1)
    assert nearest == ["contain"]
    condition["o"] = "contians"
    error = await rest_error(http, SEARCH, body)
    assert error["message"] == (
        f"unknown operator 'contians' in the condition on 'status'; did you mean '{nearest[0]}'?"
    )


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"sort": {"key": "craeted_at"}}, "craeted_at"),
        ({"sort": [{"key": "finishedAt_"}]}, "finishedAt_"),
        ({"only": ["job_id", "job_idd"]}, "job_idd"),
        ({"filter_or": [{"k": "controller_info.nme", "v": "x", "o": "eq"}]}, "controller_info.nme"),
    ],
)
async def test_sort_and_only_keys_suggest_the_closest_field(
    http: httpx.AsyncClient, jobs: None, query: dict[str, Any], name: str
) -> None:
    error = await rest_error(http, SEARCH, {"domain_id": DOMAIN, "query": query})
    snake = name.replace("At", "_at").lower()
    assert error["message"] == f"unknown field '{name}'; did you mean '{closest(snake)}'?"


async def test_an_unsortable_field_lists_the_sortable_ones(http: httpx.AsyncClient, jobs: None) -> None:
    error = await rest_error(
        http, SEARCH, {"domain_id": DOMAIN, "query": {"sort": {"key": "controller_info.name"}}}
    )
    assert error["message"].startswith(
        "cannot sort by 'controller_info.name'; sortable fields: job_id, status, "
    )
    for listed in error["message"].split(": ", 1)[1].split(", "):
        ok = await http.post(SEARCH, json={"domain_id": DOMAIN, "query": {"sort": {"key": listed}}})
        assert ok.status_code == 200, listed


async def test_a_statistics_group_key_suggests_the_closest_field(http: httpx.AsyncClient, jobs: None) -> None:
    group = {"keys": [{"key": "projct_id", "name": "project"}], "fields": [{"operator": "count", "name": "n"}]}
    error = await rest_error(http, STAT, {"domain_id": DOMAIN, "query": {"aggregate": [{"group": group}]}})
    assert error["message"] == f"unknown field 'projct_id'; did you mean '{closest('projct_id')}'?"


async def test_an_unknown_parameter_suggests_the_closest_one(http: httpx.AsyncClient) -> None:
    error = await rest_error(http, SEARCH, {"domain_id": DOMAIN, "query": {"filtr": []}})
    assert error == {
        "code": "ERROR_INVALID_PARAMETER",
        "message": "unknown parameter 'filtr' in query; did you mean 'filter'?",
    }
    error = await rest_error(http, SEARCH, {"domainId": DOMAIN, "query": {"page": {"size": 3}}})
    assert error["message"] == "unknown parameter 'size' in query.page; valid parameters: limit, start"


async def test_a_condition_that_is_not_an_object_is_named_by_its_position(http: httpx.AsyncClient) -> None:
    conditions = [{"k": "status", "v": "ERROR", "o": "eq"}, "status=ERROR"]
    error = await rest_error(http, SEARCH, {"domain_id": DOMAIN, "query": {"filter": conditions}})
    assert error["message"] == "query.filter[1] must be an object {k, v, o}"


async def test_long_client_names_are_cut_in_the_message(http: httpx.AsyncClient, jobs: None) -> None:
    name = "q" * 300
    body = {"domain_id": DOMAIN, "query": {"filter": [{"k": name, "v": 1, "o": name}]}}
    message = (await rest_error(http, SEARCH, body))["message"]
    assert "q" * 80 not in message and "q" * 79 + "…" in message


# malformed JSON says where ------------------------------------------------------------------------

BROKEN = '{\n  "domain_id": "%s",\n  "query": {"page" {"limit": 1}}\n}' % DOMAIN


@pytest.mark.parametrize("path", [SEARCH, STAT])
async def test_a_malformed_rest_body_says_where(http: httpx.AsyncClient, path: str) -> None:
    response = await http.post(path, content=BROKEN.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "ERROR_INVALID_PARAMETER",
        "message": f"the request body is not valid JSON: {position(BROKEN)}",
    }
    assert "line 3, column" in response.json()["error"]["message"]


async def test_a_malformed_query_parameter_says_where(http: httpx.AsyncClient) -> None:
    text = '{"page": {"limit": 1,}}'
    response = await http.get(LIST, params={"domain_id": DOMAIN, "query": text})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "ERROR_INVALID_PARAMETER",
        "message": f"the 'query' parameter is not valid JSON: {position(text)}",
    }
    response = await http.get(LIST, params={"domain_id": DOMAIN, "query": "[1]"})
    assert response.json()["error"]["message"] == "the 'query' parameter must be a JSON object"


async def test_a_malformed_graphql_body_says_where(http: httpx.AsyncClient) -> None:
    text = '{\n  "query": "{ jobs { totalCount } }"\n  "variables": {}\n}'
    response = await http.post(
        "/graphql", content=text.encode(), headers={"content-type": "application/json", **PLAIN}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "message": f"the request body is not valid JSON: {position(text)}",
            "extensions": {"code": "BAD_REQUEST"},
        }
    ]


async def test_malformed_graphql_variables_in_a_get_say_where(http: httpx.AsyncClient) -> None:
    text = '{"limit": 1'
    response = await http.get("/graphql", params={"query": "{ __typename }", "variables": text}, headers=PLAIN)
    assert response.status_code == 400
    assert [e["message"] for e in response.json()["errors"]] == [
        f"the 'variables' parameter is not valid JSON: {position(text)}"
    ]


async def test_a_statistics_condition_operator_that_is_not_text_is_a_client_error(
    http: httpx.AsyncClient, jobs: None
) -> None:
    field = {"operator": "count", "name": "n", "conditions": [{"k": "status", "v": "ERROR", "o": 7}]}
    group = {"keys": [{"key": "status", "name": "status"}], "fields": [field]}
    error = await rest_error(http, STAT, {"domain_id": DOMAIN, "query": {"aggregate": [{"group": group}]}})
    assert error["code"] == "ERROR_DB_QUERY"
    assert error["message"].startswith("unknown operator '7' in 'aggregate[0].group.fields[0].conditions[0].o'")
