"""The embedded demo database, the routes around GraphQL, and the command line."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import httpx

from gateway.app import EXAMPLE_QUERY, create_app
from gateway.demo import DEMO_DOMAINS, generate_demo_data
from gateway.settings import Settings
from schema import schema
from tests.factories import STATUSES


def test_demo_data_is_realistic_and_reproducible() -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    jobs, controllers = generate_demo_data(2020, 3000, now)
    again, _ = generate_demo_data(2020, 3000, now)
    assert jobs == again
    assert {j["domain_id"] for j in jobs} == set(DEMO_DOMAINS)
    assert set(Counter(j["status"] for j in jobs)) == set(STATUSES)
    assert all(j["errors"] for j in jobs if j["status"] == "ERROR")
    assert all(j["finished_at"] is None for j in jobs if j["status"] in ("CREATED", "IN_PROGRESS"))
    span = max(j["created_at"] for j in jobs) - min(j["created_at"] for j in jobs)
    assert span.days >= 14
    assert len({c["domain_id"] for c in controllers}) == len(DEMO_DOMAINS)
    owned = {c["_id"] for c in controllers}
    assert any(j["controller"] is not None and j["controller"] not in owned for j in jobs)


async def test_the_logged_example_query_works_on_the_demo_database() -> None:
    settings = Settings(demo_jobs=600)
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as http:
        response = await http.post("/graphql", json={"query": EXAMPLE_QUERY % DEMO_DOMAINS[0]})
        assert (await http.get("/readyz")).status_code == 200
        graphiql = await http.get("/graphql", headers={"accept": "text/html"})
    body = response.json()
    assert "errors" not in body
    jobs = body["data"]["jobs"]
    assert jobs["totalCount"] > 0 and len(jobs["results"]) == min(5, jobs["totalCount"])
    assert all(r["status"] == "ERROR" and r["errors"] for r in jobs["results"])
    assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()


def test_export_schema_prints_the_sdl() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "export-schema"], capture_output=True, text=True, check=True
    )
    assert result.stdout == schema.as_str() + "\n"


def test_help_lists_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--host", "--port", "--workers", "export-schema"):
        assert option in result.stdout
