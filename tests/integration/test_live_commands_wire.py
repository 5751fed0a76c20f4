"""The live feed in process on the session's guarded wire-server client: every command it sends
(the change stream, the filter matching, the loaders) passes the tenant guard, and the matching
sends one command per distinct filter per batch, whatever the number of subscribers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.live.feed import ChangeFeed
from gateway.live.hub import ConnectionSubscriptions, LiveHub
from gateway.mongo.expr import Condition
from gateway.mongo.query import QueryLimits
from gateway.mongo.repository import AggregationLimits, JobChangeStream, JobRepository
from gateway.settings import Settings
from tests import factories
from tests.tenant_guard import GUARD
from tests.wire import CommandRecorder

pytestmark = pytest.mark.wire

DOMAIN = "domain-wirelive0001"


async def test_live_commands_are_scoped_and_do_not_grow_with_subscribers(
    wire_db: Any, command_recorder: CommandRecorder
) -> None:
    hub = LiveHub(max_subscriptions=100, buffer=100)
    feed = ChangeFeed(hub, JobChangeStream(wire_db), poll_seconds=1, batch_events=100)
    await feed.start()
    try:
        await hub.wait_ready()
        repository = JobRepository(
            wire_db,
            DOMAIN,
            max_time_ms=5000,
            limits=QueryLimits.from_settings(Settings()),
            aggregation=AggregationLimits.from_settings(Settings()),
        )
        connection = ConnectionSubscriptions(100)
        running = Condition("status", "eq", "IN_PROGRESS")
        subscriptions = [hub.subscribe(repository, connection, where=running) for _ in range(30)]
        job = factories.job(DOMAIN, status="IN_PROGRESS")
        command_recorder.clear()
        await wire_db["job"].insert_one(job)
        streams = [s.deliveries() for s in subscriptions]
        got = await asyncio.wait_for(asyncio.gather(*(anext(stream) for stream in streams)), 20)
        assert {d.change.job_id for d in got} == {job["job_id"]}
        matching = [
            body
            for name, body in command_recorder.commands
            if name == "aggregate" and "$documents" in (body.get("pipeline") or [{}])[0]
        ]
        assert len(matching) == 1  # one distinct filter, one batch: one command for 30 subscribers
        assert GUARD.checked > 0 and not GUARD.violations
        for stream in streams:
            await stream.aclose()
    finally:
        await feed.stop()
