"""The live hub in process, with a real repository (mongomock): scoping of raw change events,
bounded buffers (SLOW_CONSUMER), subscription limits, and filters answered by the database."""

from __future__ import annotations

from typing import Any

import pytest
from mongomock_motor import AsyncMongoMockClient

from gateway.errors import RateLimited, SlowConsumer
from gateway.live.hub import ChangeKind, ConnectionSubscriptions, Delivery, LiveHub
from gateway.mongo.expr import Condition
from gateway.mongo.query import QueryLimits
from gateway.mongo.repository import AggregationLimits, JobRepository
from gateway.settings import Settings
from tests import factories

DOMAIN, OTHER = "domain-hub00000000a", "domain-hub00000000b"


def repository(database: Any, domain: str) -> JobRepository:
    return JobRepository(
        database,
        domain,
        max_time_ms=1000,
        limits=QueryLimits.from_settings(Settings()),
        aggregation=AggregationLimits.from_settings(Settings()),
    )


def insert_event(document: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "_id": {"_data": f"{n:04x}"},
        "operationType": "insert",
        "fullDocument": document,
        "documentKey": {"_id": document["_id"]},
    }


def delete_event(object_id: Any, n: int) -> dict[str, Any]:
    return {"_id": {"_data": f"{n:04x}"}, "operationType": "delete", "documentKey": {"_id": object_id}}


@pytest.fixture
def database() -> Any:
    return AsyncMongoMockClient(tz_aware=False)["hub"]


async def drain(iterator: Any, count: int) -> list[Delivery]:
    return [await anext(iterator) for _ in range(count)]


async def test_a_subscriber_past_its_buffer_gets_what_fits_then_slow_consumer(database: Any) -> None:
    hub = LiveHub(max_subscriptions=10, buffer=3)
    subscription = hub.subscribe(repository(database, DOMAIN), ConnectionSubscriptions(5))
    jobs = [factories.job(DOMAIN) for _ in range(5)]
    changes = [hub.scope_change(insert_event(job, n)) for n, job in enumerate(jobs)]
    await hub.fan_out([c for c in changes if c is not None])
    deliveries = subscription.deliveries()
    got = await drain(deliveries, 3)
    assert [d.change.job_id for d in got] == [job["job_id"] for job in jobs[:3]]
    with pytest.raises(SlowConsumer):
        await anext(deliveries)
    assert hub.stats.slow_consumers == 1 and hub.subscription_count == 0


async def test_limits_per_connection_and_per_process(database: Any) -> None:
    hub = LiveHub(max_subscriptions=3, buffer=3)
    one, two = ConnectionSubscriptions(2), ConnectionSubscriptions(2)
    repo = repository(database, DOMAIN)
    first = hub.subscribe(repo, one)
    hub.subscribe(repo, one)
    with pytest.raises(RateLimited):
        hub.subscribe(repo, one)
    hub.subscribe(repo, two)
    with pytest.raises(RateLimited):
        hub.subscribe(repo, two)  # the process holds 3
    first.close()
    hub.subscribe(repo, two)  # a slot is free again
    assert (one.open, two.open, hub.subscription_count) == (1, 2, 3)


async def test_changes_reach_only_their_domain_and_deletes_take_the_domain_seen_before(database: Any) -> None:
    hub = LiveHub(max_subscriptions=10, buffer=10)
    mine = hub.subscribe(repository(database, DOMAIN), ConnectionSubscriptions(5))
    theirs = hub.subscribe(repository(database, OTHER), ConnectionSubscriptions(5))
    job, other = factories.job(DOMAIN), factories.job(OTHER)
    unknown = factories.job(DOMAIN)
    raws = [
        insert_event(job, 1),
        insert_event(other, 2),
        delete_event(job["_id"], 3),
        delete_event(unknown["_id"], 4),
    ]  # never seen: its domain is unknown
    await hub.fan_out([c for raw in raws if (c := hub.scope_change(raw)) is not None])
    got = [(d.change.kind, d.change.job_id) for d in await drain(mine.deliveries(), 2)]
    assert got == [(ChangeKind.CREATED, job["job_id"]), (ChangeKind.DELETED, job["job_id"])]
    assert mine.queue.empty()
    assert [d.change.job_id for d in await drain(theirs.deliveries(), 1)] == [other["job_id"]]
    assert theirs.queue.empty()


async def test_a_filter_is_answered_by_the_database_and_deletes_follow_delivered_jobs(database: Any) -> None:
    hub = LiveHub(max_subscriptions=10, buffer=10)
    running = hub.subscribe(
        repository(database, DOMAIN), ConnectionSubscriptions(5), where=Condition("status", "eq", "IN_PROGRESS")
    )
    matching, other = factories.job(DOMAIN, status="IN_PROGRESS"), factories.job(DOMAIN)
    await database["job"].insert_many([dict(matching), dict(other)])  # mongomock: answered by find
    raws = [
        insert_event(matching, 1),
        insert_event(other, 2),
        delete_event(other["_id"], 3),
        delete_event(matching["_id"], 4),
    ]
    await hub.fan_out([c for raw in raws if (c := hub.scope_change(raw)) is not None])
    got = [(d.change.kind, d.change.job_id) for d in await drain(running.deliveries(), 2)]
    assert got == [(ChangeKind.CREATED, matching["job_id"]), (ChangeKind.DELETED, matching["job_id"])]
    assert running.queue.empty()


async def test_a_delete_read_twice_is_scoped_both_times(database: Any) -> None:
    """A catch-up stream and the shared stream may both read the same delete."""
    hub = LiveHub(max_subscriptions=10, buffer=10)
    job = factories.job(DOMAIN)
    assert hub.scope_change(insert_event(job, 1)) is not None
    first, again = (hub.scope_change(delete_event(job["_id"], 2)) for _ in range(2))
    assert first is not None and again is not None
    assert (first.domain_id, first.job_id) == (again.domain_id, again.job_id) == (DOMAIN, job["job_id"])
