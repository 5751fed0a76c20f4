"""python-core's own compiler as the reference: every query of the corpus runs through
``MongoModel.query`` / ``MongoModel.stat`` (``spaceone-core``, in its own venv, connected to the
wire server) and through the gateway's REST routes, on the same stored documents. Rows, order,
``total_count`` and error codes must agree, except where a deviation documented in
docs/query-semantics.md or docs/statistics.md says why (the table in tests/oracle/deviations.py)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests.conftest import DOMAIN
from tests.factories import iso
from tests.oracle import corpus
from tests.oracle.deviations import explained
from tests.oracle.venv import oracle_python, run_driver
from tests.wire import WireServer

pytestmark = pytest.mark.wire
DATABASE = "oracle-python-core"


@dataclass
class Seeded:
    http: httpx.AsyncClient
    controller_id: str
    oracle: dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
async def seeded(wire_server: WireServer, wire_driver: Any) -> AsyncIterator[Seeded]:
    python = oracle_python()
    jobs, controllers = corpus.documents()
    database = wire_driver[DATABASE]
    await wire_driver.drop_database(DATABASE)
    await database["job"].insert_many(jobs)
    await database["controller"].insert_many(controllers)
    controller_id = next(c["controller_id"] for c in controllers if c["domain_id"] == DOMAIN)
    cases = {"list": corpus.list_queries(controller_id), "stat": corpus.stat_queries()}
    request = {
        "uri": wire_server.uri,
        "db": DATABASE,
        "domain": DOMAIN,
        "cases": [{"kind": kind, "query": q} for kind, queries in cases.items() for q in queries],
    }
    answers = iter(run_driver(python, request))
    oracle = {kind: [next(answers) for _ in queries] for kind, queries in cases.items()}
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)
    app = create_app(settings, MongoHandle(wire_driver, database, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield Seeded(http, controller_id, oracle)
    await wire_driver.drop_database(DATABASE)


def _oracle_rows(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return iso(__import__("datetime").datetime.fromisoformat(value["$date"]))
        return {key: _oracle_rows(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_oracle_rows(item) for item in value]
    return value


def _list_answer(body: dict[str, Any]) -> dict[str, Any]:
    if "error" in body:
        return {"error": body["error"]["code"]}
    return {"ids": [row["job_id"] for row in body["results"]], "total_count": body["total_count"]}


def _stat_answer(body: dict[str, Any], distinct: bool) -> dict[str, Any]:
    if "error" in body:
        return {"error": body["error"]["code"]}
    results = (
        body["results"] if distinct else sorted(json.dumps(row, sort_keys=True) for row in body["results"])
    )
    return {"results": results, **({"total_count": body["total_count"]} if "total_count" in body else {})}


async def _compare(seeded: Seeded, kind: str, index: int, query: dict[str, Any]) -> None:
    route = "/power-scheduler/v1/jobs/search" if kind == "list" else "/power-scheduler/v1/jobs/stat"
    response = await seeded.http.post(route, json={"query": query, "domain_id": DOMAIN})
    expected = dict(seeded.oracle[kind][index])
    detail = expected.pop("detail", None)
    if kind == "list":
        got = _list_answer(response.json())
    else:
        got = _stat_answer(response.json(), "distinct" in query)
        if "results" in expected:
            expected = _stat_answer(_oracle_rows(expected), "distinct" in query)
    if got == expected:
        return
    reason = explained(kind, query, expected, got)
    if report := os.environ.get("GATEWAY_TEST_ORACLE_REPORT"):  # every difference, explained or not
        with open(report, "a", encoding="utf-8") as out:
            out.write(
                json.dumps(
                    {
                        "kind": kind,
                        "query": query,
                        "python_core": expected,
                        "detail": detail,
                        "gateway": got,
                        "deviation": reason,
                    }
                )
                + "\n"
            )
    assert reason is not None, (
        f"undocumented difference from python-core for {kind} {json.dumps(query)}:\n"
        f"  python-core: {json.dumps(expected)[:600]} {detail or ''}\n  gateway:     {json.dumps(got)[:600]}"
    )


LIST_CASES = corpus.list_queries("<controller>")
STAT_CASES = corpus.stat_queries()


def _resolve(query: Any, controller_id: str) -> Any:
    return json.loads(json.dumps(query).replace('"<controller>"', json.dumps(controller_id)))


@pytest.mark.parametrize("index", range(len(LIST_CASES)), ids=lambda i: f"list-{i}")
async def test_list_agrees_with_python_core(seeded: Seeded, index: int) -> None:
    await _compare(seeded, "list", index, _resolve(LIST_CASES[index], seeded.controller_id))


@pytest.mark.parametrize("index", range(len(STAT_CASES)), ids=lambda i: f"stat-{i}")
async def test_stat_agrees_with_python_core(seeded: Seeded, index: int) -> None:
    await _compare(seeded, "stat", index, STAT_CASES[index])
