"""``__typename`` at the root (the cheapest liveness probe a client sends) runs from a plan, alone
or beside root fields, aliased or not, and answers exactly what standard execution answers."""

from __future__ import annotations

import pytest
from mongomock_motor import AsyncMongoMockClient

from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests import factories
from tests.conftest import DATABASE, DOMAIN
from tests.differential.apps import app_pair

QUERIES = [
    "query Hello { __typename }",
    "{ t: __typename __typename }",
    '{ __typename jobs(domainId: "%s") { __typename totalCount } }' % DOMAIN,
]


@pytest.mark.parametrize("query", QUERIES)
async def test_root_typename_runs_compiled_and_answers_as_standard(query: str) -> None:
    database = AsyncMongoMockClient(tz_aware=False)[DATABASE]
    jobs = [factories.job(DOMAIN) for _ in range(3)]
    await database["job"].insert_many(jobs)
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)
    async with app_pair(settings, MongoHandle(database.client, database, embedded=False)) as pair:
        exchange = await pair.exchange({"query": query})
    assert exchange.second_outcome == "compiled"
    assert exchange.first == exchange.second == exchange.standard
    data = exchange.standard.json()["data"]
    assert all(data[key] == "Query" for key in data if key in ("t", "__typename"))
    if "jobs" in data:
        assert data["jobs"] == {"__typename": "JobsInfo", "totalCount": len(jobs)}
