"""Compiled execution answers exactly what standard execution answers.

Generated operations over the real schema (:mod:`tests.differential.operations`) over generated
stored data (:mod:`tests.differential.data`) are sent to two apps over one database, compiled
execution on in one and off in the other, with the same request id. The compiled app gets each
operation twice: the first run is standard execution (which learns the plan), the second runs
the plan when it covers the operation. Every answer must be byte for byte the standard app's:
HTTP status and body.

Bounded and reproducible: a fixed number of examples, derandomized. That the plans really ran
(and the comparison is not between two standard runs) is held by a deterministic test below, on
the ``gateway_compiled_executions_total`` counter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mongomock_motor import AsyncMongoMockClient

from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests.conftest import DATABASE
from tests.differential.apps import AppPair, app_pair
from tests.differential.data import datasets
from tests.differential.operations import Stored, operations

DIFFERENTIAL = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
SETTINGS = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)


class Gateways:
    """Both apps and their database, on one event loop for the module."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.database = AsyncMongoMockClient(tz_aware=False)[DATABASE]
        handle = MongoHandle(self.database.client, self.database, embedded=False)
        self._pair = app_pair(SETTINGS, handle)
        self.pair: AppPair = self.loop.run_until_complete(self._pair.__aenter__())

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, 30))

    async def store(self, jobs: list[dict[str, Any]], controllers: list[dict[str, Any]]) -> None:
        for name, documents in (("job", jobs), ("controller", controllers)):
            await self.database[name].delete_many({})
            if documents:
                await self.database[name].insert_many([dict(d) for d in documents])

    def close(self) -> None:
        self.loop.run_until_complete(self._pair.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture(scope="module")
def gateways() -> Iterator[Gateways]:
    gateways = Gateways()
    yield gateways
    gateways.close()


def assert_identical(body: dict[str, Any], answers: Any) -> None:
    first, second, standard = answers
    assert standard.status < 500, (body, standard)
    for label, answer in (("first", first), ("second", second)):
        assert (answer.status, answer.body) == (standard.status, standard.body), (label, body)


@DIFFERENTIAL
@given(data=st.data())
def test_generated_operations_answer_identically_from_plans(gateways: Gateways, data: st.DataObject) -> None:
    jobs, controllers = data.draw(datasets(), label="stored")
    body = data.draw(operations(Stored.of(jobs, controllers)), label="request")
    gateways.run(gateways.store(jobs, controllers))
    assert_identical(body, gateways.run(gateways.pair.answers(body)))
