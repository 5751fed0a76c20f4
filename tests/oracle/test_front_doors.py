"""The REST routes and the GraphQL fields `jobs` / `jobStats` give the same answers (rows, order,
total count, error code) for every query of the differential corpus (tests/oracle/corpus.py)
that GraphQL's input types can express: they share one compiler."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.mongo.stats import GROUP_OPERATORS, PROJECT_OPERATORS
from gateway.settings import Settings
from tests.conftest import DOMAIN
from tests.oracle import corpus
from tests.oracle.deviations import OPERATORS

pytestmark = pytest.mark.wire
DATABASE = "oracle-front-doors"
JOBS = "query($q: SearchQuery, $d: String) { jobs(query: $q, domainId: $d) { totalCount results { jobId } } }"
STATS = "query($q: StatisticsQuery!, $d: String) { jobStats(query: $q, domainId: $d) { results totalCount } }"


@dataclass
class Doors:
    http: httpx.AsyncClient
    controller_id: str


@pytest.fixture(scope="module")
async def doors(wire_driver: Any) -> AsyncIterator[Doors]:
    jobs, controllers = corpus.documents()
    database = wire_driver[DATABASE]
    await wire_driver.drop_database(DATABASE)
    await database["job"].insert_many(jobs)
    await database["controller"].insert_many(controllers)
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)
    app = create_app(settings, MongoHandle(wire_driver, database, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield Doors(http, next(c["controller_id"] for c in controllers if c["domain_id"] == DOMAIN))
    await wire_driver.drop_database(DATABASE)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


ENUM_KEYS = {"o", "operator"}
STAGES = {"unwind", "group", "count", "sort", "project", "limit", "skip"}


def graphql_input(node: Any, parent: str = "") -> Any:
    """SpaceONE JSON → GraphQL input: camelCase names, enum operators in upper case, a sort list
    as `{keys}`. Raises ValueError for what the input types cannot express."""
    if isinstance(node, list):
        return [graphql_input(item, parent) for item in node]
    if not isinstance(node, dict):
        return node
    if parent == "aggregate" and not set(node) <= STAGES:
        raise ValueError("not a stage of the input type")
    if parent in ("filter", "filter_or") and not {"k", "o"} <= set(node):
        raise ValueError("FilterCondition needs k and o")
    converted: dict[str, Any] = {}
    for name, value in node.items():
        if name in ENUM_KEYS:
            if not isinstance(value, str) or value != value.lower():
                raise ValueError("not an enum value")
            if parent in ("filter", "filter_or", "conditions") and value not in OPERATORS:
                raise ValueError("unknown operator")
            if parent == "fields" and value not in GROUP_OPERATORS + PROJECT_OPERATORS:
                raise ValueError("unknown operator")
            converted[camel(name)] = value.upper()
        elif name == "v" or (name == "value" and parent != "operands"):
            converted[name] = value  # JSON: data as given
        elif name == "sort" and isinstance(value, list):
            converted["sort"] = {"keys": graphql_input(value, "sort")}
        else:
            converted[camel(name)] = graphql_input(value, name)
    return converted


def graphql_answer(body: dict[str, Any], field: str) -> dict[str, Any]:
    if body.get("errors"):
        return {"error": body["errors"][0]["extensions"].get("spaceoneCode")}
    data = body["data"][field]
    rows = data["results"]
    return {
        "rows": [row["jobId"] if field == "jobs" else row for row in rows],
        "total_count": data["totalCount"],
    }


def _cases(kind: str) -> list[tuple[int, Any]]:
    """The corpus as GraphQL variables: every statistics query, every list query that is more than
    one condition, and every third single condition (they share one compiler: a sample suffices)."""
    queries = corpus.list_queries("<controller>") if kind == "list" else corpus.stat_queries()
    cases = []
    for index, query in enumerate(queries):
        if kind == "list" and len(query) == 1 and len(query.get("filter") or []) == 1 and index % 3:
            continue
        try:
            cases.append((index, graphql_input(query)))
        except ValueError:
            continue
    return cases


LIST_CASES = _cases("list")
STAT_CASES = _cases("stat")


def test_graphql_expresses_nearly_all_of_the_corpus() -> None:
    assert len(LIST_CASES) >= 0.3 * len(corpus.list_queries("<controller>"))
    assert len(STAT_CASES) >= len(corpus.stat_queries()) - 2


def _resolved(query: Any, controller_id: str) -> Any:
    return json.loads(json.dumps(query).replace('"<controller>"', json.dumps(controller_id)))


async def _jobs(doors: Doors, index: int, variables: Any) -> str | None:
    query = _resolved(corpus.list_queries("<controller>")[index], doors.controller_id)
    rest = await doors.http.post("/power-scheduler/v1/jobs/search", json={"query": query, "domain_id": DOMAIN})
    graphql = await doors.http.post(
        "/graphql",
        json={"query": JOBS, "variables": {"q": _resolved(variables, doors.controller_id), "d": DOMAIN}},
    )
    body = rest.json()
    expected = (
        {"error": body["error"]["code"]}
        if "error" in body
        else {"rows": [row["job_id"] for row in body["results"]], "total_count": body["total_count"]}
    )
    got = graphql_answer(graphql.json(), "jobs")
    return None if got == expected else f"{json.dumps(query)}\n  REST:    {expected}\n  GraphQL: {got}"


async def _stats(doors: Doors, index: int, variables: Any) -> str | None:
    query = corpus.stat_queries()[index]
    rest = await doors.http.post("/power-scheduler/v1/jobs/stat", json={"query": query, "domain_id": DOMAIN})
    graphql = await doors.http.post(
        "/graphql", json={"query": STATS, "variables": {"q": variables, "d": DOMAIN}}
    )
    body = rest.json()
    expected = (
        {"error": body["error"]["code"]}
        if "error" in body
        else {"rows": body["results"], "total_count": body.get("total_count")}
    )
    got = graphql_answer(graphql.json(), "jobStats")
    return None if got == expected else f"{json.dumps(query)}\n  REST:    {expected}\n  GraphQL: {got}"


async def _all(check: Any, doors: Doors, cases: list[tuple[int, Any]]) -> list[str]:
    """Every case, a few at a time (one test: the corpus is large)."""
    gate = asyncio.Semaphore(8)

    async def one(index: int, variables: Any) -> str | None:
        async with gate:
            result: str | None = await check(doors, index, variables)
            return result

    return [d for d in await asyncio.gather(*(one(i, v) for i, v in cases)) if d is not None]


async def test_jobs_answers_as_the_search_route(doors: Doors) -> None:
    differences = await _all(_jobs, doors, LIST_CASES)
    assert not differences, f"{len(differences)} of {len(LIST_CASES)} differ:\n" + "\n".join(differences[:20])


async def test_job_stats_answers_as_the_stat_route(doors: Doors) -> None:
    differences = await _all(_stats, doors, STAT_CASES)
    assert not differences, f"{len(differences)} of {len(STAT_CASES)} differ:\n" + "\n".join(differences[:20])
