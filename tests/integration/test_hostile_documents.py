"""The gateway as users run it (``python -m gateway``, uvicorn, the demo data) while clients send
the worst documents that can be built, concurrently: every one is refused before execution, and
another client's simple queries and ``/healthz`` keep being answered, correctly, meanwhile.

Times are printed (``pytest -s``), never asserted."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from bench.hostile import hostile_documents
from gateway.demo import DEMO_DOMAINS
from tests.live import LiveGateway

HOSTILE_CLIENTS = 4
ROUNDS = 8  # each hostile client sends every document this many times, each text new (uncached)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveGateway]:
    gateway = LiveGateway.start(GATEWAY_DEMO_JOBS="300", GATEWAY_LOG_LEVEL="WARNING")
    yield gateway
    gateway.stop()


@dataclass
class Simple:
    """What the well-behaved client saw."""

    answers: list[tuple[float, int]] = field(default_factory=list)  # (seconds, totalCount)
    health: list[int] = field(default_factory=list)
    during_flood: int = 0


def expected_count(live: LiveGateway, domain: str) -> int:
    return sum(1 for job in live.demo_jobs() if job["domain_id"] == domain)


async def simple_client(
    http: httpx.AsyncClient, domain: str, stop: asyncio.Event, seen: Simple, flooding: asyncio.Event
) -> None:
    query = '{ jobs(domainId: "%s", query: {countOnly: true}) { totalCount } }' % domain
    while not stop.is_set():
        start = time.perf_counter()
        response = await http.post("/graphql", json={"query": query})
        seen.answers.append((time.perf_counter() - start, response.json()["data"]["jobs"]["totalCount"]))
        seen.during_flood += flooding.is_set()
        seen.health.append((await http.get("/healthz")).status_code)


async def hostile_client(http: httpx.AsyncClient, client: int) -> list[tuple[str, int, list[str], float]]:
    answers = []
    for round_ in range(ROUNDS):
        for name, document in hostile_documents(24):
            body = {"query": f"{document} # client {client} round {round_}"}
            start = time.perf_counter()
            response = await http.post("/graphql", json=body)
            seconds = time.perf_counter() - start
            codes = [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]
            answers.append((name, response.status_code, codes, seconds))
    return answers


def lag_samples(metrics: str) -> tuple[int, float]:
    count = re.search(r"^gateway_event_loop_lag_seconds_count (\S+)$", metrics, re.M)
    total = re.search(r"^gateway_event_loop_lag_seconds_sum (\S+)$", metrics, re.M)
    assert count and total, "the event-loop lag histogram is exported"
    return int(float(count.group(1))), float(total.group(1))


async def test_hostile_documents_are_refused_while_others_are_served(live: LiveGateway) -> None:
    domain = DEMO_DOMAINS[0]
    expected = expected_count(live, domain)
    limits = httpx.Limits(max_connections=HOSTILE_CLIENTS + 2)
    async with httpx.AsyncClient(base_url=live.url, timeout=60, limits=limits) as http:
        baseline = Simple()
        stop, flooding = asyncio.Event(), asyncio.Event()
        calm = asyncio.create_task(simple_client(http, domain, stop, baseline, flooding))
        await asyncio.sleep(1.0)
        stop.set()
        await calm

        under_flood = Simple()
        stop.clear()
        simple = asyncio.create_task(simple_client(http, domain, stop, under_flood, flooding))
        flooding.set()
        hostile = await asyncio.gather(*(hostile_client(http, c) for c in range(HOSTILE_CLIENTS)))
        flooding.clear()
        stop.set()
        await simple
        count, lag_total = lag_samples((await http.get("/metrics")).text)

    answers = [answer for client in hostile for answer in client]
    assert len(answers) == HOSTILE_CLIENTS * ROUNDS * len(list(hostile_documents(24)))
    for name, status, codes, _ in answers:
        assert status < 500, (name, status)
        wanted = "GRAPHQL_VALIDATION_FAILED" if name == "cyclic fragments" else "QUERY_TOO_COMPLEX"
        assert codes == [wanted], (name, codes)
    for seen in (baseline, under_flood):
        assert seen.answers and all(total == expected for _, total in seen.answers)
        assert set(seen.health) == {200}
    assert under_flood.during_flood > 0, "simple queries were answered while the flood was in flight"
    assert count > 0

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1000:.1f} ms, worst {max(values) * 1000:.1f} ms"

    print(f"\nsimple query alone ({len(baseline.answers)}): {ms([s for s, _ in baseline.answers])}")
    print(
        f"simple query under the flood ({len(under_flood.answers)}): {ms([s for s, _ in under_flood.answers])}"
    )
    for name in dict.fromkeys(name for name, *_ in answers):
        print(f"{name}: {ms([s for n, _, _, s in answers if n == name])}")
    print(f"event-loop lag: {count} samples, mean {lag_total / count * 1000:.2f} ms")
