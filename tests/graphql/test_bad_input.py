"""Every malformed request gets a GraphQL error with a code and a message naming the mistake;
nothing is read, and the gateway keeps serving."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.conftest import DOMAIN, Backend, GraphQLClient, seed

SEARCH = """
query($query: SearchQuery, $domain: String) {
  jobs(domainId: $domain, query: $query) { totalCount results { jobId } }
}
"""


def condition(k: str, v: Any, o: str) -> dict[str, Any]:
    return {"query": {"filter": [{"k": k, "v": v, "o": o}]}, "domain": DOMAIN}


CASES = [
    ("unknown field", condition("colour", "red", "EQ"), "ERROR_DB_QUERY", "unknown field 'colour'"),
    ("internal field", condition("mark_error", 1, "EQ"), "ERROR_DB_QUERY", "unknown field 'mark_error'"),
    (
        "list operator given a scalar",
        condition("status", "ERROR", "IN"),
        "ERROR_OPERATOR_LIST_VALUE_TYPE",
        "'in' on 'status'",
    ),
    (
        "scalar operator given a list",
        condition("status", ["ERROR"], "EQ"),
        "ERROR_OPERATOR_VALUE_TYPE",
        "'eq' on 'status'",
    ),
    (
        "$ne smuggled in v",
        condition("status", {"$ne": None}, "EQ"),
        "ERROR_OPERATOR_VALUE_TYPE",
        "not an object",
    ),
    (
        "$where smuggled in v",
        condition("job_id", {"$where": "sleep(1000)"}, "NOT"),
        "ERROR_OPERATOR_VALUE_TYPE",
        "not an object",
    ),
    ("$where inside a match object", condition("errors", {"$where": "1"}, "MATCH"), "ERROR_DB_QUERY", "$where"),
    (
        "operator inside a match value",
        condition("errors", {"error_code": {"$ne": 1}}, "MATCH"),
        "ERROR_OPERATOR_DICT_VALUE_TYPE",
        "error_code",
    ),
    ("match given a scalar", condition("errors", "E", "MATCH"), "ERROR_OPERATOR_DICT_VALUE_TYPE", "object"),
    (
        "exists given text",
        condition("finished_at", "yes", "EXISTS"),
        "ERROR_OPERATOR_BOOLEAN_TYPE",
        "true or false",
    ),
    ("non-ISO date", condition("created_at", "last tuesday", "DATETIME_GT"), "ERROR_DB_QUERY", "ISO-8601"),
    (
        "bad timediff",
        condition("created_at", "now - a while", "TIMEDIFF_GT"),
        "ERROR_DB_QUERY",
        "time difference",
    ),
    ("bad regex", condition("job_id", "([", "REGEX"), "ERROR_DB_QUERY", "regular expression"),
    ("$ in a field path", condition("filter.$gt", 1, "EQ"), "ERROR_DB_QUERY", "invalid field"),
    (
        "negative limit",
        {"query": {"page": {"limit": -5}}, "domain": DOMAIN},
        "ERROR_INVALID_PARAMETER",
        "positive",
    ),
    (
        "huge limit",
        {"query": {"page": {"limit": 1001}}, "domain": DOMAIN},
        "ERROR_INVALID_PARAMETER",
        "maximum page size",
    ),
    (
        "unsortable key",
        {"query": {"sort": {"key": "controller_info.name"}}, "domain": DOMAIN},
        "ERROR_DB_QUERY",
        "cannot sort by 'controller_info.name'",
    ),
    (
        "unknown sort key",
        {"query": {"sort": {"key": "$natural"}}, "domain": DOMAIN},
        "ERROR_DB_QUERY",
        "$natural",
    ),
    (
        "unknown `only` field",
        {"query": {"only": ["secret"]}, "domain": DOMAIN},
        "ERROR_DB_QUERY",
        "unknown field 'secret'",
    ),
    ("missing domainId", {"query": {}}, "ERROR_REQUIRED_PARAMETER", "domainId is required"),
    ("integer beyond 64 bits", condition("total_tasks", 2**65, "EQ"), "ERROR_DB_QUERY", "64-bit"),
    ("NUL in a pattern", condition("job_id", "a\x00b", "CONTAIN"), "ERROR_DB_QUERY", "NUL"),
    ("date out of range", condition("created_at", "now + 999999w", "TIMEDIFF_LT"), "ERROR_DB_QUERY", "range"),
    ("too many values", condition("status", ["A"] * 1001, "IN"), "ERROR_INVALID_PARAMETER", "max_list_values"),
]


@pytest.fixture
async def client(backend: Backend) -> GraphQLClient:
    """Both back ends: the wire server also proves that nothing malformed reaches the driver."""
    await seed(backend.db, [factories.job(DOMAIN) for _ in range(3)])
    return backend.client


@pytest.mark.parametrize(
    ("variables", "spaceone_code", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_bad_search_input_is_refused_clearly(
    client: GraphQLClient, variables: dict[str, Any], spaceone_code: str, fragment: str
) -> None:
    body = await client(SEARCH, variables)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "spaceoneCode": spaceone_code}
    assert fragment in error["message"]
    assert "Traceback" not in str(body)
    # and the gateway keeps serving
    ok = await client(SEARCH, {"domain": DOMAIN})
    assert ok["data"]["jobs"]["totalCount"] == 3


async def test_a_syntax_error_is_a_parse_failure(client: GraphQLClient) -> None:
    body = await client("{ jobs(domainId: ")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert body.get("data") is None


async def test_an_unknown_field_is_a_validation_failure(client: GraphQLClient) -> None:
    body = await client('{ jobs(domainId: "%s") { results { colour } } }' % DOMAIN)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "colour" in body["errors"][0]["message"]


async def test_a_bad_variable_is_bad_user_input(client: GraphQLClient) -> None:
    body = await client(SEARCH, {"domain": DOMAIN, "query": {"page": {"limit": "ten"}}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await client(SEARCH, {"domain": DOMAIN, "query": {"filter": [{"k": "status", "o": "LIKE"}]}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_unexpected_failure_is_masked_and_logged(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from gateway.mongo.repository import JobRepository

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals: mongodb://admin:pw@db")

    monkeypatch.setattr(JobRepository, "search", broken)
    body = await client(SEARCH, {"domain": DOMAIN})
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(body)
    assert any("secret internals" in (r.exc_text or "") or r.exc_info for r in caplog.records)
