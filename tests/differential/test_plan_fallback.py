"""A plan that gives way after it started loads (of fields that were not prefetched) leaves no
load behind: nothing is left un-awaited, and the answer is standard execution's."""

from __future__ import annotations

import gc
import warnings

from mongomock_motor import AsyncMongoMockClient

from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests import factories
from tests.conftest import DATABASE, DOMAIN
from tests.differential.apps import app_pair
from tests.differential.operations import global_id

QUERY = "query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Job { errors { errorCode } controllerInfo { name } totalTasks } } }"


async def test_a_plan_giving_way_leaves_no_load_unawaited() -> None:
    database = AsyncMongoMockClient(tz_aware=False)[DATABASE]
    controller = factories.controller(DOMAIN)
    loads = factories.job(DOMAIN, errors=[factories.error("E_BUSY")], controller=controller["_id"])
    out_of_range = factories.job(DOMAIN, total_tasks=2**31)  # not an Int: the plan gives way
    await database["controller"].insert_one(controller)
    await database["job"].insert_many([loads, out_of_range])
    ids = [global_id("Job", DOMAIN, job["job_id"]) for job in (loads, out_of_range)]
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with app_pair(settings, MongoHandle(database.client, database, embedded=False)) as pair:
            exchange = await pair.exchange({"query": QUERY, "variables": {"ids": ids}})
        gc.collect()
    assert exchange.second_outcome == "fallback"
    assert exchange.first == exchange.second == exchange.standard
    body = exchange.standard.json()
    assert body["data"]["nodes"][0] == {
        "errors": [{"errorCode": "E_BUSY"}],
        "controllerInfo": {"name": controller["name"]},
        "totalTasks": 10,
    }
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
