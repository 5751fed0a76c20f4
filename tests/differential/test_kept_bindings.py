"""A compiled operation keeps the run-up of the variable values it has seen (coercion, cost,
root arguments): sent again with values seen before, or with new ones, it answers each exactly
as standard execution does, and a ``JSON`` argument from kept values is a fresh copy each time."""

from __future__ import annotations

from typing import Any

from mongomock_motor import AsyncMongoMockClient

from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from schema.compiled.bindings import MAX_KEY_CHARS, binding_key, fresh
from tests import factories
from tests.conftest import DATABASE, DOMAIN
from tests.differential.apps import app_pair, outcome_counts

QUERY = (
    'query ($v: JSON, $limit: Int) { jobs(domainId: $domain, query: {filter: [{k: "total_tasks", v: $v, '
    'o: GTE}], page: {limit: $limit}, sort: {key: "total_tasks"}}) { totalCount results { jobId totalTasks } } }'
).replace("($v", "($domain: String!, $v")


async def test_values_seen_before_and_new_ones_answer_as_standard_execution() -> None:
    database = AsyncMongoMockClient(tz_aware=False)[DATABASE]
    jobs = [factories.job(DOMAIN, total_tasks=tasks) for tasks in (1, 4, 4, 9, 12)]
    await database["job"].insert_many(jobs)
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)
    sequence: list[dict[str, Any]] = [
        {"domain": DOMAIN, "v": 4, "limit": 10},
        {"domain": DOMAIN, "v": 9, "limit": 10},
        {"domain": DOMAIN, "v": 4, "limit": 10},
        {"domain": DOMAIN, "v": 4, "limit": 1},
        {"domain": DOMAIN, "v": 9, "limit": 10},
    ]
    async with app_pair(settings, MongoHandle(database.client, database, embedded=False)) as pair:
        await pair.exchange({"query": QUERY, "variables": sequence[0]})  # learns the plan
        for variables in sequence:
            before = await outcome_counts(pair.compiled)
            compiled = await pair.compiled.post("/graphql", json={"query": QUERY, "variables": variables})
            after = await outcome_counts(pair.compiled)
            standard = await pair.standard.post("/graphql", json={"query": QUERY, "variables": variables})
            assert after["compiled"] == before["compiled"] + 1
            assert compiled.content == standard.content
            matching = sorted(
                (j for j in jobs if j["total_tasks"] >= variables["v"]), key=lambda j: j["total_tasks"]
            )
            assert compiled.json()["data"]["jobs"] == {
                "totalCount": len(matching),
                "results": [
                    {"jobId": j["job_id"], "totalTasks": j["total_tasks"]}
                    for j in matching[: variables["limit"]]
                ],
            }


def test_keys_tell_apart_values_that_compare_equal() -> None:
    keys = {binding_key({"v": value}) for value in (1, 1.0, True, "1", [1], {"1": 1})}
    assert len(keys) == 6
    assert binding_key({"v": 1}) == binding_key({"v": 1})


def test_long_values_are_not_kept() -> None:
    assert binding_key({"v": "x" * MAX_KEY_CHARS}) is None
    assert binding_key({"v": "x" * (MAX_KEY_CHARS // 2)}) is not None


def test_fresh_copies_share_no_container() -> None:
    kept = {"query": {"filter": [{"k": "filter.tags", "v": {"any": [1, 2]}}]}, "domainId": "d"}
    handed = fresh(kept)
    assert handed == kept
    handed["query"]["filter"][0]["v"]["any"].append(3)
    handed["query"]["filter"].append({"k": "status"})
    assert kept == {"query": {"filter": [{"k": "filter.tags", "v": {"any": [1, 2]}}]}, "domainId": "d"}
