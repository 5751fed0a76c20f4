"""The per-domain bulkhead and the request deadline through the HTTP stack, on the wire server
(real driver, real socket): one domain saturating its bound does not hold up another; a wait past
the bound is RATE_LIMITED with Retry-After (GraphQL and REST); a deadline passing while queued is
TIMEOUT, and the queued command is never sent; every command carries what is left of the deadline
as maxTimeMS."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo import monitoring
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.mongo.bulkhead import Bulkhead
from gateway.mongo.client import MongoHandle, close_client, driver_client
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, seed
from tests.wire import CommandRecorder, WireServer

pytestmark = pytest.mark.wire

REST = "/power-scheduler/v1/jobs"
COUNT = "query($d: String) { jobs(domainId: $d, query: {page: {limit: 3}}) { totalCount } }"
HEAVY = {
    "aggregate": [
        {"unwind": {"path": "errors"}},
        {
            "group": {
                "keys": [{"key": "errors.error_code", "name": "code"}, {"key": "status", "name": "status"}],
                "fields": [{"operator": "COUNT", "name": "n"}],
            }
        },
        {"sort": {"keys": [{"key": "code"}, {"key": "status"}]}},
    ]
}
STATS = "query($d: String, $q: StatisticsQuery!) { jobStats(domainId: $d, query: $q) { results } }"


def gateway_settings(**overrides: Any) -> Settings:
    return Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0, **overrides)


@dataclass
class Gateway:
    app: Starlette
    http: httpx.AsyncClient

    @property
    def bulkhead(self) -> Bulkhead:
        bulkhead: Bulkhead = self.app.state.bulkhead
        return bulkhead

    async def graphql(
        self, query: str, variables: dict[str, Any], accept: str = "application/json"
    ) -> httpx.Response:
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"Accept": accept}
        )


def jobs_of_two_domains() -> list[dict[str, Any]]:
    jobs = [factories.job(DOMAIN, status="ERROR", errors=[factories.error(f"E{i % 4}")]) for i in range(40)]
    return jobs + [factories.job(OTHER_DOMAIN, status="SUCCESS") for _ in range(7)]


async def gateway_on(database: Any, settings: Settings) -> AsyncIterator[Gateway]:
    app = create_app(settings, MongoHandle(database.client, database, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield Gateway(app, http)


@pytest.fixture
async def bounded(wire_db: Any) -> AsyncIterator[Gateway]:
    """A bound of one command per domain and a short wait."""
    await seed(wire_db, jobs_of_two_domains())
    settings = gateway_settings(max_concurrent_commands_per_domain=1, max_concurrent_commands_wait_seconds=0.05)
    async for gateway in gateway_on(wire_db, settings):
        yield gateway


async def test_a_saturated_domain_is_rate_limited_while_another_is_answered(bounded: Gateway) -> None:
    release = asyncio.Event()
    taken = asyncio.Event()

    async def saturate() -> None:  # the busy domain's one slot, held by a command in flight
        async with bounded.bulkhead.slot(DOMAIN):
            taken.set()
            await release.wait()

    holder = asyncio.create_task(saturate())
    await taken.wait()
    refused = await bounded.graphql(COUNT, {"d": DOMAIN})
    error = refused.json()["errors"][0]
    assert refused.json()["data"] is None
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 1}
    assert refused.headers["Retry-After"] == "1"
    rest = await bounded.http.post(f"{REST}/search", json={"domain_id": DOMAIN})
    assert rest.status_code == 429 and rest.headers["Retry-After"] == "1"
    assert rest.json()["error"]["code"] == "ERROR_RATE_LIMITED"
    other = await bounded.graphql(COUNT, {"d": OTHER_DOMAIN})
    assert other.json() == {"data": {"jobs": {"totalCount": 7}}}
    assert "Retry-After" not in other.headers
    release.set()
    await holder
    again = await bounded.graphql(COUNT, {"d": DOMAIN})
    assert again.json() == {"data": {"jobs": {"totalCount": 40}}}
    metrics = (await bounded.http.get("/metrics")).text
    refusals = next(
        line for line in metrics.splitlines() if line.startswith("gateway_command_slot_refusals_total")
    )
    assert float(refusals.split()[-1]) >= 2  # a command of each refused request (REST sends two)


@dataclass
class InFlight(monitoring.CommandListener):
    """Commands in flight at the server per domain (the domain named in the command), and the
    most seen at once."""

    domains: tuple[str, ...]
    now: Counter[str] = field(default_factory=Counter)
    most: Counter[str] = field(default_factory=Counter)
    _by_request: dict[int, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in ("find", "aggregate", "count", "distinct"):
            return  # reads only (the seeding insert names both domains)
        text = str(event.command)
        for domain in self.domains:
            if domain in text:
                with self._lock:
                    self._by_request[event.request_id] = domain
                    self.now[domain] += 1
                    self.most[domain] = max(self.most[domain], self.now[domain])

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event.request_id)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._done(event.request_id)

    def _done(self, request_id: int) -> None:
        with self._lock:
            domain = self._by_request.pop(request_id, None)
            if domain is not None:
                self.now[domain] -= 1


async def test_under_a_flood_the_busy_domain_never_has_more_than_its_bound_at_the_server(
    wire_server: WireServer, mongodb_driver: Any
) -> None:
    in_flight = InFlight((DOMAIN, OTHER_DOMAIN))
    client = driver_client(wire_server.uri, mongodb_driver, tz_aware=False, event_listeners=[in_flight])
    database = client[f"bulkhead-{id(in_flight):x}"]
    try:
        jobs = jobs_of_two_domains()
        await seed(database, jobs)
        settings = gateway_settings(
            max_concurrent_commands_per_domain=1, max_concurrent_commands_wait_seconds=120
        )
        async for gateway in gateway_on(database, settings):
            heavy = [gateway.graphql(STATS, {"d": DOMAIN, "q": HEAVY}) for _ in range(8)]
            light = [gateway.graphql(COUNT, {"d": OTHER_DOMAIN}) for _ in range(8)]
            answers = await asyncio.gather(*heavy, *light)
        codes = Counter(
            (job["errors"][0]["error_code"], job["status"]) for job in jobs if job["domain_id"] == DOMAIN
        )
        expected = [{"code": code, "status": status, "n": n} for (code, status), n in sorted(codes.items())]
        assert all(a.json() == {"data": {"jobStats": {"results": expected}}} for a in answers[:8])
        assert all(a.json() == {"data": {"jobs": {"totalCount": 7}}} for a in answers[8:])
        assert in_flight.most[DOMAIN] == 1  # eight requests, never two commands at once
        assert in_flight.most[OTHER_DOMAIN] == 1  # its own bound, not the busy domain's turn
    finally:
        await client.drop_database(database.name)
        await close_client(client)


@pytest.fixture
async def queued(wire_db: Any) -> AsyncIterator[Gateway]:
    """A long bounded wait and a short request deadline: the deadline ends the wait."""
    await seed(wire_db, jobs_of_two_domains())
    settings = gateway_settings(
        max_concurrent_commands_per_domain=1,
        max_concurrent_commands_wait_seconds=600,
        request_timeout_seconds=0.2,
    )
    async for gateway in gateway_on(wire_db, settings):
        yield gateway


async def test_a_deadline_passing_while_queued_is_timeout_and_the_command_is_never_sent(
    queued: Gateway, command_recorder: CommandRecorder
) -> None:
    release, taken = asyncio.Event(), asyncio.Event()

    async def saturate() -> None:
        async with queued.bulkhead.slot(DOMAIN):
            taken.set()
            await release.wait()

    holder = asyncio.create_task(saturate())
    await taken.wait()
    command_recorder.clear()
    strict = await queued.graphql(COUNT, {"d": DOMAIN}, accept="application/graphql-response+json")
    assert strict.status_code == 504
    assert "data" not in strict.json()
    error = strict.json()["errors"][0]
    assert error["extensions"]["code"] == "TIMEOUT" and "GATEWAY_REQUEST_TIMEOUT_SECONDS" in error["message"]
    plain = await queued.graphql(COUNT, {"d": DOMAIN})
    assert plain.status_code == 200 and plain.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    rest = await queued.http.post(f"{REST}/stat", json={"domain_id": DOMAIN, "query": HEAVY})
    assert rest.status_code == 504 and rest.json()["error"]["code"] == "ERROR_TIMEOUT"
    assert queued.bulkhead.waiting(DOMAIN) == 0  # the queued commands were cancelled
    release.set()
    await holder
    await asyncio.sleep(0.05)
    assert not [body for _, body in command_recorder.commands if DOMAIN in str(body)]


async def test_every_command_carries_what_is_left_of_the_deadline_as_max_time_ms(
    wire_db: Any, command_recorder: CommandRecorder
) -> None:
    await seed(wire_db, jobs_of_two_domains())
    settings = gateway_settings(request_timeout_seconds=3, max_time_ms=10_000)
    async for gateway in gateway_on(wire_db, settings):
        command_recorder.clear()
        answer = await gateway.graphql(STATS, {"d": DOMAIN, "q": {**HEAVY, "page": {"limit": 2}}})
        assert "errors" not in answer.json()
        listing = await gateway.graphql(COUNT, {"d": DOMAIN})
        assert listing.json() == {"data": {"jobs": {"totalCount": 40}}}
    sent = [body for name, body in command_recorder.commands if name in ("aggregate", "find")]
    assert len(sent) >= 3  # rows and count of the statistics, the page of the listing (count: aggregate)
    assert all(0 < body["maxTimeMS"] <= 3000 for body in sent), [body.get("maxTimeMS") for body in sent]
