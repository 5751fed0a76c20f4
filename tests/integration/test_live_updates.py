"""Live updates end to end: the gateway as its own process over a wire server with change
streams, real WebSocket (``graphql-transport-ws``, ``graphql-ws``) and SSE clients, changes
written with pymongo; every event is checked against what was written (derived here in Python)."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from pymongo import MongoClient

from tests import factories
from tests.integration.live_support import (
    DATABASE,
    LEGACY_WS,
    TRANSPORT_WS,
    GatewayProcess,
    LiveClient,
)
from tests.tokens import KeyPair
from tests.wire import WireServer

pytestmark = pytest.mark.wire

DOMAINS = ("domain-live0000000a", "domain-live0000000b", "domain-live0000000c")

JOBS_CHANGED = """
subscription Changes($filter: JobFilter, $after: String) {
  jobsChanged(filter: $filter, after: $after) {
    kind jobId cursor job { jobId status remainedTasks domainId errors { errorCode } }
  }
}"""
JOB_UPDATED = """
subscription One($jobId: ID!) { jobUpdated(jobId: $jobId) { jobId status remainedTasks } }"""
RUNNING = {"status": {"eq": "IN_PROGRESS"}}


@pytest.fixture(scope="module")
def gateway(mongodb_driver: str, server: WireServer, keys: tuple[KeyPair, Path]) -> Iterator[GatewayProcess]:
    process = GatewayProcess.start(
        server.uri, *keys, GATEWAY_MONGODB_DRIVER=mongodb_driver, GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION="5"
    )
    yield process
    process.stop()


@dataclass
class Model:
    """What the writes did, in order: (kind, domain, job_id, the job after the change)."""

    stored: dict[Any, dict[str, Any]] = field(default_factory=dict)
    changes: list[tuple[str, str, str, dict[str, Any] | None]] = field(default_factory=list)

    def insert(self, collection: Any, document: dict[str, Any]) -> None:
        collection.insert_one(document)
        self.stored[document["_id"]] = dict(document)
        self.changes.append(("CREATED", document["domain_id"], document["job_id"], dict(document)))

    def update(self, collection: Any, object_id: Any, **values: Any) -> None:
        result = collection.update_one({"_id": object_id}, {"$set": values})
        unchanged = all(self.stored[object_id].get(k) == v for k, v in values.items())
        assert result.modified_count == (0 if unchanged else 1)
        if unchanged:
            return  # MongoDB writes nothing, so no change event either
        self.stored[object_id] |= values
        job = self.stored[object_id]
        self.changes.append(("UPDATED", job["domain_id"], job["job_id"], dict(job)))

    def delete(self, collection: Any, object_id: Any) -> None:
        collection.delete_one({"_id": object_id})
        job = self.stored.pop(object_id)
        self.changes.append(("DELETED", job["domain_id"], job["job_id"], None))

    def expected(
        self, domain: str, running_only: bool = False
    ) -> list[tuple[str, str, str | None, int | None]]:
        """The events a subscriber of ``domain`` must get (with the IN_PROGRESS filter when
        ``running_only``): a DELETED only for a job delivered before."""
        events, delivered = [], set()
        for kind, job_domain, job_id, job in self.changes:
            if job_domain != domain:
                continue
            if kind == "DELETED":
                if not running_only or job_id in delivered:
                    events.append((kind, job_id, None, None))
                continue
            if running_only and job is not None and job["status"] != "IN_PROGRESS":
                continue
            delivered.add(job_id)
            assert job is not None
            events.append((kind, job_id, job["status"], job["remained_tasks"]))
        return events


def seen(events: list[dict[str, Any]]) -> list[tuple[str, str, str | None, int | None]]:
    return [
        (
            e["kind"],
            e["jobId"],
            e["job"]["status"] if e["job"] else None,
            e["job"]["remainedTasks"] if e["job"] else None,
        )
        for e in events
    ]


@pytest.fixture
async def clients(gateway: GatewayProcess) -> AsyncIterator[dict[str, LiveClient]]:
    connected = {domain: await LiveClient.connect(gateway, gateway.token(domain)) for domain in DOMAINS}
    yield connected
    for client in connected.values():
        await client.close()


async def write_in_steps(model: Model, steps: list[Any], watcher: LiveClient, domain: str, op: str) -> None:
    """Apply each write, then wait until ``watcher`` (an unfiltered subscription of ``domain``)
    has its events: each change reaches the gateway alone, so the document the change stream
    looks up is that write's."""
    for step in steps:
        step()
        count = len([change for change in model.changes if change[1] == domain])
        await watcher.pump(lambda c, n=count: len(c.data(op, "jobsChanged")) >= n)
        await asyncio.sleep(0.05)


async def test_each_subscriber_gets_every_change_of_its_domain_that_matches_once_and_in_order(
    gateway: GatewayProcess, jobs: Any, clients: dict[str, LiveClient]
) -> None:
    a, b, c = DOMAINS
    await clients[a].subscribe("all", JOBS_CHANGED)
    await clients[a].subscribe("running", JOBS_CHANGED, {"filter": RUNNING})
    await clients[b].subscribe("all", JOBS_CHANGED)
    await clients[c].subscribe("running", JOBS_CHANGED, {"filter": RUNNING})
    await gateway.wait_subscriptions(4)

    model = Model()
    first, second = factories.job(a), factories.job(a, status="IN_PROGRESS")
    other = factories.job(b, status="IN_PROGRESS")
    steps = [
        lambda: model.insert(jobs, first),
        lambda: model.insert(jobs, other),
        lambda: model.insert(jobs, second),
        lambda: model.update(jobs, first["_id"], status="IN_PROGRESS", remained_tasks=7),
        lambda: model.update(jobs, other["_id"], remained_tasks=3),
        lambda: model.update(jobs, second["_id"], remained_tasks=4),
        lambda: model.update(jobs, first["_id"], status="SUCCESS", remained_tasks=0),
        lambda: model.update(
            jobs,
            second["_id"],
            status="ERROR",
            errors=[{"error_code": "ERROR_X", "message": "m", "additional": {}}],
        ),
        lambda: model.delete(jobs, first["_id"]),
        lambda: model.delete(jobs, other["_id"]),
    ]
    await write_in_steps(model, steps, clients[a], a, "all")
    await clients[b].pump(lambda cl: len(cl.data("all", "jobsChanged")) >= len(model.expected(b)))
    for client in clients.values():
        await client.quiet(1.0)  # anything extra would arrive now

    assert seen(clients[a].data("all", "jobsChanged")) == model.expected(a)
    assert seen(clients[a].data("running", "jobsChanged")) == model.expected(a, running_only=True)
    assert seen(clients[b].data("all", "jobsChanged")) == model.expected(b)
    assert clients[c].data("running", "jobsChanged") == []  # nothing of the others' domains
    for client_domain, client in clients.items():
        for op in client.received:
            for event in client.data(op, "jobsChanged"):
                assert event["job"] is None or event["job"]["domainId"] == client_domain
    errors = [
        e["job"]["errors"]
        for e in clients[a].data("all", "jobsChanged")
        if e["job"] and e["job"]["status"] == "ERROR"
    ]
    assert errors == [[{"errorCode": "ERROR_X"}]]  # the loaders answer as in queries
    for client in clients.values():
        for op in client.received:
            cursors = [e["cursor"] for e in client.data(op, "jobsChanged")]
            assert len(set(cursors)) == len(cursors)  # one resume point per change


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_writes_of_several_domains_reach_only_their_domain(
    gateway: GatewayProcess, jobs: Any, seed: int
) -> None:
    """Property style: random interleaved writes in three domains; each domain's subscribers
    (two connections each) get exactly their domain's changes, in order."""
    rng = random.Random(seed)
    subscribers = {d: [await LiveClient.connect(gateway, gateway.token(d)) for _ in range(2)] for d in DOMAINS}
    try:
        for listeners in subscribers.values():
            for client in listeners:
                await client.subscribe("all", JOBS_CHANGED)
        await gateway.wait_subscriptions(2 * len(DOMAINS))
        model = Model()
        live: list[Any] = []
        for _ in range(24):
            action = rng.random()
            if not live or action < 0.4:
                job = factories.job(rng.choice(DOMAINS), status=rng.choice(factories.STATUSES))
                model.insert(jobs, job)
                live.append(job["_id"])
            elif action < 0.85:
                model.update(jobs, rng.choice(live), remained_tasks=rng.randint(0, 9))
            else:
                target = live.pop(rng.randrange(len(live)))
                # The change stream looks an updated job up when it reads the update: a job
                # deleted before that has no document to send (its DELETED follows). Let the
                # earlier changes be read first.
                await caught_up(model, subscribers)
                model.delete(jobs, target)
            await asyncio.sleep(0.02)
        await caught_up(model, subscribers)
        for domain, listeners in subscribers.items():
            expected = [(kind, job_id) for kind, job_id, _, _ in model.expected(domain)]
            for client in listeners:
                await client.pump(lambda cl, n=len(expected): len(cl.data("all", "jobsChanged")) >= n)  # noqa: B008
                await client.quiet(0.5)
                got = [(e["kind"], e["jobId"]) for e in client.data("all", "jobsChanged")]
                assert got == expected
    finally:
        for listeners in subscribers.values():
            for client in listeners:
                await client.close()


async def caught_up(model: Model, subscribers: dict[str, list[LiveClient]]) -> None:
    for domain, listeners in subscribers.items():
        count = len(model.expected(domain))
        try:
            await listeners[0].pump(lambda cl, n=count: len(cl.data("all", "jobsChanged")) >= n)
        except AssertionError:
            got = [(e["kind"], e["jobId"]) for e in listeners[0].data("all", "jobsChanged")]
            expected = [(kind, job_id) for kind, job_id, _, _ in model.expected(domain)]
            raise AssertionError(f"{domain}: expected {expected}, got {got}") from None


async def test_job_updated_starts_with_the_current_state_and_ends_when_deleted(
    gateway: GatewayProcess, jobs: Any
) -> None:
    domain = DOMAINS[0]
    job = factories.job(domain, status="IN_PROGRESS", remained_tasks=5)
    jobs.insert_one(job)
    foreign = factories.job(DOMAINS[1])
    jobs.insert_one(foreign)
    client = await LiveClient.connect(gateway, gateway.token(domain))
    try:
        await client.subscribe("one", JOB_UPDATED, {"jobId": job["job_id"]})
        await client.subscribe("foreign", JOB_UPDATED, {"jobId": foreign["job_id"]})
        await client.pump(lambda c: len(c.data("one", "jobUpdated")) == 1 and "foreign" in c.ended)
        await gateway.wait_subscriptions(1)
        jobs.update_one({"_id": job["_id"]}, {"$set": {"remained_tasks": 2}})
        await client.pump(lambda c: len(c.data("one", "jobUpdated")) == 2)
        jobs.delete_one({"_id": job["_id"]})
        await client.pump(lambda c: "one" in c.ended)
        states = [(j["status"], j["remainedTasks"]) for j in client.data("one", "jobUpdated")]
        assert states == [("IN_PROGRESS", 5), ("IN_PROGRESS", 2)]
        assert client.ended["one"]["type"] == "complete"
        refusal = client.ended["foreign"]
        codes = [e["extensions"]["code"] for p in client.received["foreign"] for e in p.get("errors", [])]
        assert codes == ["NOT_FOUND"] and refusal["type"] == "complete"
        assert foreign["job_id"] in json.dumps(client.received["foreign"])  # names the job only
    finally:
        await client.close()


async def test_after_resumes_exactly_after_an_event_even_across_a_gateway_restart(
    mongodb_driver: str, server: WireServer, keys: tuple[KeyPair, Path], jobs: Any
) -> None:
    domain = DOMAINS[2]
    first = GatewayProcess.start(server.uri, *keys, GATEWAY_MONGODB_DRIVER=mongodb_driver)
    try:
        client = await LiveClient.connect(first, first.token(domain))
        await client.subscribe("all", JOBS_CHANGED)
        await first.wait_subscriptions(1)
        written = [factories.job(domain) for _ in range(4)]
        for job in written[:2]:
            jobs.insert_one(job)
        await client.pump(lambda c: len(c.data("all", "jobsChanged")) == 2)
        cursor = client.data("all", "jobsChanged")[-1]["cursor"]
        await client.close()
    finally:
        first.stop()
    for job in written[2:]:
        jobs.insert_one(job)  # while no gateway runs
    second = GatewayProcess.start(server.uri, *keys, GATEWAY_MONGODB_DRIVER=mongodb_driver)
    try:
        client = await LiveClient.connect(second, second.token(domain))
        await client.subscribe("resumed", JOBS_CHANGED, {"after": cursor})
        await client.pump(lambda c: len(c.data("resumed", "jobsChanged")) >= 2)
        late = factories.job(domain)
        jobs.insert_one(late)
        await client.pump(lambda c: len(c.data("resumed", "jobsChanged")) >= 3)
        await client.quiet(1.0)
        got = [e["jobId"] for e in client.data("resumed", "jobsChanged")]
        assert got == [written[2]["job_id"], written[3]["job_id"], late["job_id"]]
        await client.subscribe("forged", JOBS_CHANGED, {"after": cursor[:-2] + "AA"})
        await client.pump(lambda c: "forged" in c.ended)
        codes = [e["extensions"]["code"] for p in client.received["forged"] for e in p.get("errors", [])]
        assert codes == ["BAD_USER_INPUT"]
        await client.close()
    finally:
        second.stop()


async def test_refused_tokens_close_the_socket_with_4403(gateway: GatewayProcess) -> None:
    expired = gateway.keys.token({"did": DOMAINS[0], "exp": int(time.time()) - 3600})
    for protocol in (TRANSPORT_WS, LEGACY_WS):
        for token in ("not-a-token", expired, None):
            async with websockets.connect(f"ws://{gateway.url}/graphql", subprotocols=[protocol]) as ws:
                payload = {"Authorization": f"Bearer {token}"} if token else {}
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    while True:
                        await asyncio.wait_for(ws.recv(), 10)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, (protocol, token)


async def test_the_upgrade_requests_authorization_header_is_accepted(gateway: GatewayProcess) -> None:
    token = gateway.token(DOMAINS[0])
    async with websockets.connect(
        f"ws://{gateway.url}/graphql",
        subprotocols=[TRANSPORT_WS],
        additional_headers={"Authorization": f"Bearer {token}"},
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1, 2]",
        '{"type": 7}',
        '{"id": "1", "type": "subscribe"}',
        '{"id": "1", "type": "subscribe", "payload": "query"}',
        '{"id": 1, "type": "subscribe", "payload": {"query": "subscription { x }"}}',
    ],
)
async def test_bad_messages_get_a_protocol_close_and_the_gateway_keeps_serving(
    gateway: GatewayProcess, message: str
) -> None:
    client = await LiveClient.connect(gateway, gateway.token(DOMAINS[0]))
    await client.socket.send(message)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(client.socket.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    again = await LiveClient.connect(gateway, gateway.token(DOMAINS[0]))  # still serving
    await again.subscribe("bad", "subscription { jobsChanged(filter: {nope: 1}) { kind } }")
    await again.pump(lambda c: "bad" in c.ended)
    codes = [e["extensions"]["code"] for e in again.ended["bad"]["payload"]]
    assert codes == ["GRAPHQL_VALIDATION_FAILED"]
    await again.close()


async def test_subscriptions_per_connection_are_limited(gateway: GatewayProcess) -> None:
    client = await LiveClient.connect(gateway, gateway.token(DOMAINS[1]))
    try:
        for n in range(6):  # the gateway fixture allows 5
            await client.subscribe(f"s{n}", JOBS_CHANGED)
        await client.pump(lambda c: "s5" in c.ended)
        codes = [e["extensions"]["code"] for p in client.received["s5"] for e in p.get("errors", [])]
        assert codes == ["RATE_LIMITED"]
        assert [op for op in client.ended] == ["s5"]
    finally:
        await client.close()


async def test_server_sent_events_stream_the_changes_of_the_callers_domain(
    gateway: GatewayProcess, jobs: Any
) -> None:
    domain = DOMAINS[1]
    job = factories.job(domain)
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {gateway.token(domain)}"}
    body = {"query": JOBS_CHANGED}
    async with httpx.AsyncClient(base_url=f"http://{gateway.url}", timeout=20) as http:
        refused = await http.post("/graphql", json=body, headers={**headers, "Authorization": "Bearer x"})
        assert refused.status_code == 401
        async with http.stream("POST", "/graphql", json=body, headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            await gateway.wait_subscriptions(1)
            jobs.insert_one(factories.job(DOMAINS[0]))  # another domain's: never seen
            jobs.insert_one(job)
            lines = response.aiter_lines()
            while True:
                line = await asyncio.wait_for(anext(lines), 20)
                if line.startswith("data: ") and line != "data: ":
                    event = json.loads(line.removeprefix("data: "))["data"]["jobsChanged"]
                    break
    assert (event["kind"], event["jobId"], event["job"]["domainId"]) == ("CREATED", job["job_id"], domain)


async def test_commands_sent_do_not_grow_with_the_number_of_subscribers(
    gateway: GatewayProcess, jobs: Any
) -> None:
    domain = DOMAINS[1]

    async def commands_for(subscribers: int) -> float:
        connections = [
            await LiveClient.connect(gateway, gateway.token(domain)) for _ in range((subscribers + 3) // 4)
        ]
        for n in range(subscribers):
            await connections[n % len(connections)].subscribe(f"s{n}", JOBS_CHANGED, {"filter": RUNNING})
        await gateway.wait_subscriptions(subscribers)
        before = gateway.metric("gateway_mongodb_commands_total", 'command="aggregate"', 'command="find"')
        written = [factories.job(domain, status="IN_PROGRESS") for _ in range(3)]
        for job in written:
            jobs.insert_one(job)
            for connection in connections:  # one change at a time: one batch each
                await connection.pump(
                    lambda c, wanted=job["job_id"]: all(
                        any(e["jobId"] == wanted for e in c.data(op, "jobsChanged")) for op in c.received
                    )
                )
        spent = (
            gateway.metric("gateway_mongodb_commands_total", 'command="aggregate"', 'command="find"') - before
        )
        for connection in connections:
            await connection.close()
        await gateway.wait_subscriptions(0)
        return spent

    assert await commands_for(1) == await commands_for(16)


async def test_a_restarted_database_that_lost_its_history_tells_subscribers_to_resync(
    mongodb_driver: str,
    keys: tuple[KeyPair, Path],
) -> None:
    own = WireServer.start()
    process = GatewayProcess.start(
        own.uri,
        *keys,
        GATEWAY_MONGODB_DRIVER=mongodb_driver,
        GATEWAY_MONGODB_SERVER_SELECTION_TIMEOUT_MS="1000",
    )
    try:
        client = await LiveClient.connect(process, process.token(DOMAINS[0]))
        await client.subscribe("all", JOBS_CHANGED)
        await process.wait_subscriptions(1)
        own.restart()  # in memory: the change history (and the resume token) is gone
        await client.pump(lambda c: "all" in c.ended, timeout=60)
        codes = [e["extensions"]["code"] for p in client.received["all"] for e in p.get("errors", [])]
        assert codes == ["RESYNC_REQUIRED"]
        await client.subscribe("again", JOBS_CHANGED)  # a new subscription works again
        await process.wait_subscriptions(1)
        job = factories.job(DOMAINS[0])
        with MongoClient(own.uri) as writer:
            writer[DATABASE]["job"].insert_one(job)
        await client.pump(lambda c: len(c.data("again", "jobsChanged")) == 1, timeout=30)
        assert client.data("again", "jobsChanged")[0]["jobId"] == job["job_id"]
        await client.close()
    finally:
        process.stop()
        own.stop()


async def test_sigterm_tells_every_subscriber_before_closing(
    mongodb_driver: str, server: WireServer, keys: tuple[KeyPair, Path]
) -> None:
    process = GatewayProcess.start(server.uri, *keys, GATEWAY_MONGODB_DRIVER=mongodb_driver)
    try:
        clients = [await LiveClient.connect(process, process.token(d)) for d in DOMAINS[:2]]
        for client in clients:
            await client.subscribe("all", JOBS_CHANGED)
        await process.wait_subscriptions(2)
        process.process.send_signal(signal.SIGTERM)
        for client in clients:
            await client.pump(lambda c: "all" in c.ended)
            codes = [e["extensions"]["code"] for p in client.received["all"] for e in p.get("errors", [])]
            assert codes == ["SERVICE_UNAVAILABLE"]
        assert process.process.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        process.stop()


async def test_the_socket_closes_when_the_token_expires(gateway: GatewayProcess) -> None:
    token = gateway.token(DOMAINS[0], exp=int(time.time()) + 3)
    client = await LiveClient.connect(gateway, token)
    await client.subscribe("all", JOBS_CHANGED)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(client.socket.recv(), 30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_the_legacy_graphql_ws_protocol_streams_the_same_events(
    gateway: GatewayProcess, jobs: Any
) -> None:
    domain = DOMAINS[2]
    async with websockets.connect(f"ws://{gateway.url}/graphql", subprotocols=[LEGACY_WS]) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {gateway.token(domain)}"}}
            )
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "start", "payload": {"query": JOBS_CHANGED}}))
        await gateway.wait_subscriptions(1)
        job = factories.job(domain)
        jobs.insert_one(job)
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if message["type"] == "data":
                break
        event = message["payload"]["data"]["jobsChanged"]
        assert (event["kind"], event["jobId"]) == ("CREATED", job["job_id"])
        await ws.send(json.dumps({"type": "start", "payload": "nonsense"}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        while message["type"] == "ka":
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] == "error"


async def test_a_cursor_the_database_cannot_resume_from_is_refused_with_resync_required(
    gateway: GatewayProcess,
) -> None:
    from gateway.live.cursors import LiveCursor, LiveCursorCodec  # the codec signs; the server refuses

    codec = LiveCursorCodec(gateway.environment["GATEWAY_CURSOR_SECRET"])
    unknown = codec.encode(LiveCursor(token={"_data": "not-a-token-the-server-made"}))
    client = await LiveClient.connect(gateway, gateway.token(DOMAINS[0]))
    await client.subscribe("old", JOBS_CHANGED, {"after": unknown})
    await client.pump(lambda c: "old" in c.ended)
    codes = [e["extensions"]["code"] for p in client.received["old"] for e in p.get("errors", [])]
    assert codes == ["RESYNC_REQUIRED"]
    await client.close()


async def test_keep_alive_pings_and_the_connection_init_timeout(
    mongodb_driver: str, server: WireServer, keys: tuple[KeyPair, Path]
) -> None:
    process = GatewayProcess.start(
        server.uri,
        *keys,
        GATEWAY_MONGODB_DRIVER=mongodb_driver,
        GATEWAY_WS_KEEP_ALIVE_SECONDS="0.3",
        GATEWAY_WS_CONNECTION_INIT_TIMEOUT="0.5",
    )
    try:
        client = await LiveClient.connect(process, process.token(DOMAINS[0]))
        message = json.loads(await asyncio.wait_for(client.socket.recv(), 10))
        assert message == {"type": "ping"}
        await client.close()
        async with websockets.connect(f"ws://{process.url}/graphql", subprotocols=[TRANSPORT_WS]) as silent:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(silent.recv(), 10)  # never sends connection_init
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
    finally:
        process.stop()


async def test_an_unexpected_failure_reaches_the_subscriber_masked(gateway: GatewayProcess, jobs: Any) -> None:
    domain = DOMAINS[1]
    client = await LiveClient.connect(gateway, gateway.token(domain))
    try:
        await client.subscribe("all", JOBS_CHANGED)
        await gateway.wait_subscriptions(1)
        jobs.insert_one(factories.job(domain, remained_tasks="not a number"))  # a corrupt document
        await client.pump(lambda c: "all" in c.ended)
        [payload] = client.received["all"]
        [error] = payload["errors"]
        assert error["message"] == "Internal server error"
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert "not a number" not in json.dumps(payload) and "Traceback" not in json.dumps(payload)
    finally:
        await client.close()
