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
from collections import Counter
from collections.abc import Iterator
from typing import Any

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mongomock_motor import AsyncMongoMockClient

from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests import factories
from tests.conftest import DATABASE, DOMAIN, OTHER_DOMAIN
from tests.differential.apps import AppPair, Exchange, app_pair
from tests.differential.data import datasets
from tests.differential.operations import ROOT_FIELDS, Stored, operations

DIFFERENTIAL = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
SETTINGS = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0, max_aliases=1000, max_cost=1_000_000)
"""Generated operations alias and nest freely (both apps refuse beyond the limits the same way)."""


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


def assert_identical(body: dict[str, Any], exchange: Exchange) -> None:
    standard = exchange.standard
    assert standard.status < 500, (body, standard)
    for label, answer in (("first", exchange.first), ("second", exchange.second)):
        assert (answer.status, answer.body) == (standard.status, standard.body), (label, body)


@DIFFERENTIAL
@given(data=st.data())
def test_generated_operations_answer_identically_from_plans(gateways: Gateways, data: st.DataObject) -> None:
    jobs, controllers = data.draw(datasets(), label="stored")
    body = data.draw(operations(Stored.of(jobs, controllers)), label="request")
    gateways.run(gateways.store(jobs, controllers))
    assert_identical(body, gateways.run(gateways.pair.exchange(body)))


COUNTED = settings(DIFFERENTIAL, max_examples=120)
FIXED_JOBS, FIXED_CONTROLLERS = factories.dataset(12, (DOMAIN, OTHER_DOMAIN), 10)


def root_fields(body: dict[str, Any]) -> set[str]:
    """The root fields the request's operation selects, through fragments too."""
    document = graphql.parse(body["query"])
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, graphql.FragmentDefinitionNode)}
    operations_ = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    name = body.get("operationName")
    operation = next(o for o in operations_ if name is None or (o.name and o.name.value == name))
    found: set[str] = set()

    def walk(selection_set: graphql.SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, graphql.FieldNode):
                found.add(selection.name.value)
            elif isinstance(selection, graphql.InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, graphql.FragmentSpreadNode):
                walk(fragments[selection.name.value].selection_set)

    walk(operation.selection_set)
    return found


def test_most_generated_operations_run_from_their_plans() -> None:
    """Over fixed data and a fixed (derandomized) run of generated operations, the second run of
    most operations is the plan's (the compiled counter grows by one), for every root field."""
    gateways = Gateways()
    outcomes: list[tuple[set[str], str]] = []

    @COUNTED
    @given(body=operations(Stored.of(FIXED_JOBS, FIXED_CONTROLLERS)))
    def send(body: dict[str, Any]) -> None:
        exchange = gateways.run(gateways.pair.exchange(body))
        assert_identical(body, exchange)
        outcomes.append((root_fields(body), exchange.second_outcome))

    try:
        gateways.run(gateways.store(FIXED_JOBS, FIXED_CONTROLLERS))
        before = gateways.run(gateways.pair.outcomes())
        send()
        after = gateways.run(gateways.pair.outcomes())
    finally:
        gateways.close()
    compiled = [roots for roots, outcome in outcomes if outcome == "compiled"]
    assert after["compiled"] - before["compiled"] >= len(compiled)  # first runs of repeated texts too
    # Plans do not cover a root `__typename` (the whole operation then runs the standard way).
    coverable = Counter(outcome for roots, outcome in outcomes if "__typename" not in roots)
    assert coverable["compiled"] >= 0.75 * coverable.total(), coverable
    assert len(compiled) >= 0.4 * len(outcomes), Counter(outcome for _, outcome in outcomes)
    assert set().union(*compiled) >= set(ROOT_FIELDS)
