"""Statistics over the real driver and socket (SecantusDB): the pipelines actually sent, the
limits they carry, and the stages only the wire server supports."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests.conftest import DOMAIN, GraphQLClient
from tests.stats_support import Seeded, error_of, seeded
from tests.wire import CommandRecorder

pytestmark = pytest.mark.wire


@pytest.fixture
async def data(wire_client: GraphQLClient, wire_db: Any) -> Seeded:
    return await seeded(wire_client, wire_db)


def _aggregates(recorder: CommandRecorder) -> list[dict[str, Any]]:
    return [body for name, body in recorder.commands if name == "aggregate"]


def _starts_with_the_domain(pipeline: list[dict[str, Any]]) -> bool:
    match = pipeline[0].get("$match", {})
    return match.get("domain_id") == DOMAIN or {"domain_id": DOMAIN} in match.get("$and", [])[:1]


QUERIES: list[dict[str, Any]] = [
    {
        "aggregate": [
            {
                "group": {
                    "keys": [{"key": "status", "name": "status"}],
                    "fields": [{"operator": "COUNT", "name": "n"}],
                }
            }
        ]
    },
    {
        "filter": [{"k": "status", "v": "ERROR", "o": "EQ"}],
        "aggregate": [{"unwind": {"path": "errors"}}, {"count": {"name": "n"}}],
        "page": {"limit": 5},
    },
    {"filterOr": [{"k": "domain_id", "v": "domain-bbbbbbbbbbbb", "o": "EQ"}], "distinct": "domain_id"},
    {"keyword": "job", "aggregate": [{"sort": {"key": "job_id"}}, {"limit": 1}]},
]


@pytest.mark.parametrize("query", QUERIES)
async def test_every_pipeline_starts_with_the_domain_match_and_carries_the_limits(
    data: Seeded, command_recorder: CommandRecorder, query: dict[str, Any]
) -> None:
    command_recorder.clear()
    body = await data.stats(query)
    assert "errors" not in body, body
    sent = _aggregates(command_recorder)
    assert len(sent) == (2 if "page" in query else 1)
    for command in sent:
        assert _starts_with_the_domain(command["pipeline"]), command["pipeline"][0]
        assert command["maxTimeMS"] == Settings().max_time_ms
        assert command.get("allowDiskUse", False) is False
        forbidden = {"$lookup", "$out", "$merge", "$unionWith", "$graphLookup"}
        assert not forbidden & {key for stage in command["pipeline"] for key in stage}


async def test_asking_for_another_domain_in_the_filter_finds_nothing_of_it(data: Seeded) -> None:
    rows = await data.rows(QUERIES[2])
    assert rows == []  # the domain condition is ANDed on top of filterOr


async def test_jobs_with_a_controller_filter_sub_query_stay_in_the_domain(
    data: Seeded, command_recorder: CommandRecorder
) -> None:
    controller_ids = {job["controller"] for job in data.mine}
    command_recorder.clear()
    rows = await data.rows(
        {
            "filter": [{"k": "controller_info.provider", "v": "aws", "o": "EQ"}],
            "aggregate": [{"count": {"name": "n"}}],
        }
    )
    finds = [body for name, body in command_recorder.commands if name == "find"]
    assert finds and all(body["filter"]["$and"][0] == {"domain_id": DOMAIN} for body in finds)
    aws = {
        c["_id"]
        for c in await data.database["controller"].find({"domain_id": DOMAIN, "provider": "aws"}).to_list(None)
    }
    assert rows == [{"n": sum(1 for j in data.mine if j["controller"] in aws)}]
    assert controller_ids  # the dataset references controllers


async def test_array_to_object_round_trip(data: Seeded) -> None:
    rows = await data.rows(
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "status", "name": "status"}],
                        "fields": [{"operator": "MERGE_OBJECTS", "key": "filter", "name": "merged"}],
                    }
                },
                {
                    "project": {
                        "fields": [
                            {"key": "merged", "name": "pairs", "operator": "OBJECT_TO_ARRAY"},
                            {"key": "merged", "name": "merged"},
                        ]
                    }
                },
                {
                    "project": {
                        "fields": [
                            {"key": "pairs", "name": "again", "operator": "ARRAY_TO_OBJECT"},
                            {"key": "merged", "name": "merged"},
                        ]
                    }
                },
            ]
        }
    )
    assert len(rows) == len(Counter(j["status"] for j in data.mine))
    assert all(row["again"] == row["merged"] for row in rows)


async def test_arithmetic_on_text_is_a_clean_client_error(data: Seeded) -> None:
    error = error_of(
        await data.stats(
            {
                "aggregate": [
                    {
                        "project": {
                            "fields": [
                                {"key": "status", "name": "x", "operator": "ADD", "operands": [{"value": 1}]}
                            ]
                        }
                    }
                ]
            }
        )
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "spaceoneCode": "ERROR_DB_QUERY"}
    assert "$add" not in error["message"]


async def test_more_rows_than_the_cap_is_a_clear_error(wire_db: Any) -> None:
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0, stats_max_rows=5)
    app = create_app(settings, MongoHandle(wire_db.client, wire_db, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        data = await seeded(GraphQLClient(http), wire_db, jobs_per_domain=12)
        error = error_of(await data.stats({"aggregate": [{"sort": {"key": "job_id"}}]}))
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert "5 rows" in error["message"]
        rows = await data.rows({"aggregate": [{"sort": {"key": "job_id"}}, {"limit": 5}]})
        assert len(rows) == 5
