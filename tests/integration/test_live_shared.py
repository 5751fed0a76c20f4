"""Identical subscriptions share one execution: the gateway as its own process over a wire
server, real WebSocket clients of both protocols, changes written with pymongo. Every member
must get every matching event exactly once, in order, under its own id; a member leaving or
falling behind must not disturb the others; different domains or variables never share."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests import factories
from tests.integration.live_support import LEGACY_WS, GatewayProcess, LiveClient
from tests.integration.test_live_updates import JOBS_CHANGED, RUNNING, Model, seen, write_in_steps
from tests.tokens import KeyPair
from tests.wire import WireServer

pytestmark = pytest.mark.wire

A, B = "domain-share000000a", "domain-share000000b"
EXECUTED = "gateway_live_events_executed_total"


class LegacyClient:
    """A legacy ``graphql-ws`` client: ``data`` messages by id."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.received: dict[str, list[dict[str, Any]]] = {}

    @classmethod
    async def connect(cls, gateway: GatewayProcess, token: str) -> LegacyClient:
        socket = await websockets.connect(f"ws://{gateway.url}/graphql", subprotocols=[LEGACY_WS])
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        return cls(socket)

    async def start(self, operation_id: str, variables: dict[str, Any]) -> None:
        self.received[operation_id] = []
        payload = {"query": JOBS_CHANGED, "variables": variables}
        await self.socket.send(json.dumps({"id": operation_id, "type": "start", "payload": payload}))

    async def quiet(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            try:
                message = json.loads(await asyncio.wait_for(self.socket.recv(), remaining))
            except TimeoutError:
                return
            if message["type"] == "data":
                self.received[message["id"]].append(message["payload"]["data"]["jobsChanged"])


async def test_identical_subscribers_share_one_execution_and_each_gets_every_event_once_in_order(
    server: WireServer, keys: tuple[KeyPair, Path], jobs: Any
) -> None:
    gateway = GatewayProcess.start(server.uri, *keys)
    first = await LiveClient.connect(gateway, gateway.token(A))
    second = await LiveClient.connect(gateway, gateway.token(A, sub="someone-else"))
    other_domain = await LiveClient.connect(gateway, gateway.token(B))
    legacy = await LegacyClient.connect(gateway, gateway.token(A))
    try:
        # one group of four members (two on one socket, one on another, one legacy) ...
        await first.subscribe("x", JOBS_CHANGED, {"filter": RUNNING})
        await first.subscribe("y", JOBS_CHANGED, {"filter": RUNNING})
        await second.subscribe("z", JOBS_CHANGED, {"filter": RUNNING})
        await legacy.start("L", {"filter": RUNNING})
        # ... and what must not share with it: other variables, another domain
        await first.subscribe("all", JOBS_CHANGED)
        await other_domain.subscribe("x", JOBS_CHANGED, {"filter": RUNNING})
        await other_domain.subscribe("all", JOBS_CHANGED)
        await gateway.wait_subscriptions(7)
        executed_before = gateway.metric(EXECUTED)

        model = Model()
        one, two = factories.job(A, status="IN_PROGRESS"), factories.job(A)
        foreign = factories.job(B, status="IN_PROGRESS")
        steps = [
            lambda: model.insert(jobs, one),
            lambda: model.insert(jobs, foreign),
            lambda: model.insert(jobs, two),
            lambda: model.update(jobs, one["_id"], remained_tasks=3),
            lambda: model.update(jobs, two["_id"], status="IN_PROGRESS"),
            lambda: model.update(jobs, foreign["_id"], remained_tasks=1),
            lambda: model.update(jobs, one["_id"], status="SUCCESS"),
            lambda: model.delete(jobs, one["_id"]),
            lambda: model.delete(jobs, foreign["_id"]),
            lambda: model.update(jobs, two["_id"], remained_tasks=2),
        ]
        await write_in_steps(model, steps, first, A, "all")
        await other_domain.pump(lambda c: len(c.data("all", "jobsChanged")) >= len(model.expected(B)))
        for client in (first, second, other_domain):
            await client.quiet(1.0)
        await legacy.quiet(1.0)

        running_a = model.expected(A, running_only=True)
        assert len(running_a) >= 4  # the test writes enough to tell members apart
        for client, operation_id in ((first, "x"), (first, "y"), (second, "z")):
            assert seen(client.data(operation_id, "jobsChanged")) == running_a, operation_id
        assert seen(legacy.received["L"]) == running_a
        assert seen(first.data("all", "jobsChanged")) == model.expected(A)
        assert seen(other_domain.data("x", "jobsChanged")) == model.expected(B, running_only=True)
        assert seen(other_domain.data("all", "jobsChanged")) == model.expected(B)
        for operation_id in ("x", "all"):
            for event in other_domain.data(operation_id, "jobsChanged"):
                assert event["job"] is None or event["job"]["domainId"] == B
        # one execution per event and group: the four members of A's running group cost one
        groups = [
            model.expected(A, running_only=True),
            model.expected(A),
            *(model.expected(B, f) for f in (True, False)),
        ]
        assert gateway.metric(EXECUTED) - executed_before == sum(len(events) for events in groups)
    finally:
        for client in (first, second, other_domain):
            await client.close()
        await legacy.socket.close()
        gateway.stop()


async def test_a_member_that_leaves_or_falls_behind_does_not_disturb_the_others(
    server: WireServer, keys: tuple[KeyPair, Path], jobs: Any
) -> None:
    gateway = GatewayProcess.start(server.uri, *keys, GATEWAY_LIVE_BUFFER_EVENTS="3")
    token = gateway.token(A)
    reader = await LiveClient.connect(gateway, token)
    leaver = await LiveClient.connect(gateway, token)
    # Reads nothing (and has a small receive buffer): once the socket's buffers are full, its
    # member's queue fills up.
    host, port = gateway.url.split(":")
    small = socket.socket()
    small.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    small.connect((host, int(port)))
    stuck = await websockets.connect(
        f"ws://{gateway.url}/graphql",
        subprotocols=["graphql-transport-ws"],
        max_queue=1,
        compression=None,
        sock=small,
        max_size=None,
    )
    try:
        await stuck.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(stuck.recv(), 10))["type"] == "connection_ack"
        for client in (reader, leaver):
            await client.subscribe("same", JOBS_CHANGED)
        await stuck.send(json.dumps({"id": "same", "type": "subscribe", "payload": {"query": JOBS_CHANGED}}))
        await gateway.wait_subscriptions(3)

        model = Model()
        bulky = "x" * 400_000  # big events fill the stuck socket's buffers quickly
        written = [
            factories.job(A, errors=[{"error_code": bulky, "message": "m", "additional": {}}])
            for _ in range(60)
        ]
        model.insert(jobs, written[0])
        await reader.pump(lambda c: len(c.data("same", "jobsChanged")) == 1)
        await leaver.pump(lambda c: len(c.data("same", "jobsChanged")) == 1)
        await leaver.socket.send(json.dumps({"id": "same", "type": "complete"}))  # unsubscribes
        await gateway.wait_subscriptions(2)
        for job in written[1:]:
            model.insert(jobs, job)
            count = len(model.changes)
            await reader.pump(lambda c, n=count: len(c.data("same", "jobsChanged")) == n, timeout=30)
        await gateway.wait_subscriptions(1)  # the stuck member was ended
        await reader.quiet(1.0)
        await leaver.quiet(1.0)

        assert seen(reader.data("same", "jobsChanged")) == model.expected(A)
        assert seen(leaver.data("same", "jobsChanged")) == model.expected(A)[:1]
        assert gateway.metric("gateway_live_slow_consumer_closes_total") == 1
        # the stuck member, read at last: some events, then SLOW_CONSUMER and complete
        frames: list[dict[str, Any]] = []
        while not frames or frames[-1]["type"] != "complete":
            frames.append(json.loads(await asyncio.wait_for(stuck.recv(), 20)))
        events = [f["payload"] for f in frames if f["type"] == "next"]
        assert [e["extensions"]["code"] for e in events[-1]["errors"]] == ["SLOW_CONSUMER"]
        delivered = [e["data"]["jobsChanged"]["jobId"] for e in events[:-1]]
        assert delivered == [job["job_id"] for job in written[: len(delivered)]] and len(delivered) < len(
            written
        )
        assert all(f.get("id") == "same" for f in frames if f["type"] in ("next", "complete"))
    finally:
        await reader.close()
        await leaver.close()
        await stuck.close()
        gateway.stop()


async def test_a_member_joining_a_running_group_gets_no_delete_of_a_job_it_never_saw(
    server: WireServer, keys: tuple[KeyPair, Path], jobs: Any
) -> None:
    gateway = GatewayProcess.start(server.uri, *keys)
    early = await LiveClient.connect(gateway, gateway.token(A))
    late = await LiveClient.connect(gateway, gateway.token(A))
    try:
        await early.subscribe("r", JOBS_CHANGED, {"filter": RUNNING})
        await gateway.wait_subscriptions(1)
        seen_early, seen_by_both = (
            factories.job(A, status="IN_PROGRESS"),
            factories.job(A, status="IN_PROGRESS"),
        )
        jobs.insert_one(seen_early)
        await early.pump(lambda c: len(c.data("r", "jobsChanged")) == 1)
        await late.subscribe("r", JOBS_CHANGED, {"filter": RUNNING})
        await gateway.wait_subscriptions(2)
        jobs.insert_one(seen_by_both)
        jobs.delete_one({"_id": seen_early["_id"]})
        jobs.delete_one({"_id": seen_by_both["_id"]})
        await early.pump(lambda c: len(c.data("r", "jobsChanged")) == 4)
        await late.pump(lambda c: len(c.data("r", "jobsChanged")) == 2)
        await late.quiet(1.0)
        kinds = [(e["kind"], e["jobId"]) for e in late.data("r", "jobsChanged")]
        assert kinds == [("CREATED", seen_by_both["job_id"]), ("DELETED", seen_by_both["job_id"])]
        assert [e["kind"] for e in early.data("r", "jobsChanged")] == [
            "CREATED",
            "CREATED",
            "DELETED",
            "DELETED",
        ]
    finally:
        await early.close()
        await late.close()
        gateway.stop()


async def test_a_document_the_schema_refuses_gets_the_protocols_own_error(
    server: WireServer, keys: tuple[KeyPair, Path]
) -> None:
    gateway = GatewayProcess.start(server.uri, *keys)
    client = await LiveClient.connect(gateway, gateway.token(A))
    try:
        invalid = "subscription { jobsChanged { kind noSuchField } }"
        await client.subscribe("bad", invalid)
        await client.subscribe("bad-too", invalid)  # would be the same group
        await client.pump(lambda c: {"bad", "bad-too"} <= set(c.ended))
        for operation_id in ("bad", "bad-too"):
            refusal = client.ended[operation_id]
            assert refusal["type"] == "error"  # graphql-transport-ws: an `error` message, no `next`
            assert [e["extensions"]["code"] for e in refusal["payload"]] == ["GRAPHQL_VALIDATION_FAILED"]
            assert client.received[operation_id] == []
        await client.subscribe("good", JOBS_CHANGED)  # the socket still serves
        await gateway.wait_subscriptions(1)
    finally:
        await client.close()
        gateway.stop()
