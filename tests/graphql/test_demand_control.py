"""Demand control by the IBM cost directives: the directives are in the schema, the estimate and
the actual cost are reported when the client asks (request extension ``{"cost": true}``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_schema as parse_sdl

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from schema.extensions.cost import FieldCost, Plan, PlanNode, actual
from tests import factories
from tests.conftest import DOMAIN, seed

SDL = (Path(__file__).parents[2] / "schema" / "schema.graphql").read_text()
ASK = {"cost": True}


@pytest.fixture
async def jobs(mock_db: Any) -> list[dict[str, Any]]:
    documents = [factories.job(DOMAIN, errors=[factories.error(f"E{j}") for j in range(i)]) for i in range(4)]
    await seed(mock_db, documents)
    return documents


@pytest.fixture
async def client(mock_db: Any) -> Any:
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        yield http


async def ask(client: httpx.AsyncClient, query: str, extensions: Any = ASK) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query}
    if extensions is not None:
        body["extensions"] = extensions
    response = await client.post("/graphql", json=body)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def test_the_committed_schema_declares_the_cost_directives_on_the_paged_fields() -> None:
    schema = parse_sdl(SDL)
    assert {"cost", "listSize"} <= {d.name for d in schema.directives}
    query = schema.query_type
    assert query is not None
    for name, sized in (
        ("jobs", ["results"]),
        ("jobStats", ["results"]),
        ("jobsConnection", ["edges", "nodes"]),
    ):
        node = query.fields[name].ast_node
        assert node is not None
        [directive] = [d for d in node.directives or () if d.name.value == "listSize"]
        arguments = {a.name.value: a.value for a in directive.arguments}
        assert [v.value for v in arguments["sizedFields"].values] == sized  # type: ignore[attr-defined]
        assert arguments["slicingArguments"].values  # type: ignore[attr-defined]


async def test_estimate_and_actual_are_reported_when_asked(
    client: httpx.AsyncClient, jobs: list[dict[str, Any]]
) -> None:
    query = (
        '{ jobs(domainId: "%s", query: {page: {limit: 3}, sort: {key: "job_id"}}) '
        "{ totalCount results { jobId errors { errorCode } } } }" % DOMAIN
    )
    body = await ask(client, query)
    page = sorted(jobs, key=lambda j: j["job_id"])[:3]
    assert [r["jobId"] for r in body["data"]["jobs"]["results"]] == [j["job_id"] for j in page]
    # JobsInfo 1; 3 jobs of 1 each, each with an assumed one error (estimate) or its real errors
    assert body["extensions"]["cost"] == {
        "estimated": 1 + 3 * (1 + 1),
        "actual": 1 + sum(1 + len(j["errors"]) for j in page),
        "limit": Settings().max_cost,
    }


async def test_statistics_rows_count_in_the_actual_cost(
    client: httpx.AsyncClient, jobs: list[dict[str, Any]]
) -> None:
    query = '{ jobStats(domainId: "%s", query: {distinct: "job_id"}) { results } }' % DOMAIN
    body = await ask(client, query)
    assert sorted(body["data"]["jobStats"]["results"]) == sorted(j["job_id"] for j in jobs)
    # StatisticsResult 1, a row 1 (@cost on results); no page given: the default page is assumed
    assert body["extensions"]["cost"]["estimated"] == 1 + Settings().default_page_size
    assert body["extensions"]["cost"]["actual"] == 1 + len(jobs)


@pytest.mark.parametrize("extensions", [None, {}, {"cost": "yes"}, {"cost": False}])
async def test_no_cost_is_reported_unless_asked(client: httpx.AsyncClient, jobs: Any, extensions: Any) -> None:
    body = await ask(client, '{ jobs(domainId: "%s") { totalCount } }' % DOMAIN, extensions)
    assert body["data"]["jobs"]["totalCount"] == len(jobs)
    assert "cost" not in (body.get("extensions") or {})


def test_actual_cost_walks_lists_and_skips_nulls() -> None:
    leaf = FieldCost(weight=0, is_list=False)
    errors = PlanNode(
        "errors",
        "errors",
        FieldCost(weight=1, is_list=True),
        (),
        (PlanNode("errorCode", "errorCode", leaf, (), ()),),
    )
    controller = PlanNode("ci", "controllerInfo", FieldCost(weight=1, is_list=False), (), ())
    plan: Plan = (PlanNode("results", "results", FieldCost(weight=1, is_list=True), (), (errors, controller)),)
    data = {
        "results": [
            {"errors": [{"errorCode": "A"}, {"errorCode": "B"}], "ci": None},
            {"errors": [], "ci": {"name": "c"}},
        ]
    }
    assert actual(plan, data) == (1 + 2) + (1 + 1)


async def test_a_get_request_asks_for_the_cost_in_its_query_string(
    client: httpx.AsyncClient, jobs: list[dict[str, Any]]
) -> None:
    query = '{ jobs(domainId: "%s") { totalCount results { jobId } } }' % DOMAIN
    response = await client.get(
        "/graphql",
        params={"query": query, "extensions": '{"cost": true}'},
        headers={"Accept": "application/json"},
    )
    body = response.json()
    assert body["data"]["jobs"]["totalCount"] == len(jobs)
    assert body["extensions"]["cost"]["actual"] == 1 + len(jobs)
    assert body["extensions"]["cost"]["estimated"] == 1 + Settings().default_page_size
