"""Live updates without change streams: the embedded demo database (mongomock) is polled per
domain with subscribers, while the demo's simulator advances its jobs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
import websockets

from gateway.demo import DEMO_DOMAINS
from tests.live import LiveGateway

SUBSCRIPTION = 'subscription { jobsChanged(domainId: "%s") { kind jobId job { jobId domainId status } } }'


@pytest.fixture(scope="module")
def simulated() -> Iterator[LiveGateway]:
    gateway = LiveGateway.start(
        GATEWAY_DEMO_LIVE="true", GATEWAY_LIVE_POLL_SECONDS="0.2", GATEWAY_DEMO_JOBS="300"
    )
    yield gateway
    gateway.stop()


async def test_polled_changes_of_the_demo_reach_the_subscribers_of_their_domain(simulated: LiveGateway) -> None:
    url = simulated.url.replace("http://", "ws://") + "/graphql"
    events: dict[str, list[dict[str, object]]] = {domain: [] for domain in DEMO_DOMAINS}
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        for domain in DEMO_DOMAINS:
            await ws.send(
                json.dumps({"id": domain, "type": "subscribe", "payload": {"query": SUBSCRIPTION % domain}})
            )
        while sum(len(found) for found in events.values()) < 4:
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message["type"] == "next":
                events[message["id"]].append(message["payload"]["data"]["jobsChanged"])
    async with httpx.AsyncClient(base_url=simulated.url, timeout=10) as http:
        for domain, found in events.items():
            for event in found:
                assert event["kind"] in ("CREATED", "UPDATED")
                assert event["job"]["domainId"] == domain  # type: ignore[index]
                answer = await http.post(
                    "/graphql",
                    json={"query": '{ job(jobId: "%s", domainId: "%s") { jobId } }' % (event["jobId"], domain)},
                )
                assert answer.json()["data"]["job"] == {"jobId": event["jobId"]}
