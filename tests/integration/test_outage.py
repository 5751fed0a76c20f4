"""MongoDB down: the gateway starts, says it is not ready, answers SERVICE_UNAVAILABLE quickly,
and recovers by itself when the server comes back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN
from tests.wire import WireServer, free_port

QUERY = '{ jobs(domainId: "%s") { totalCount } }' % DOMAIN


@pytest.fixture
def down_server() -> Iterator[WireServer]:
    port = free_port()
    server = WireServer(uri=f"mongodb://127.0.0.1:{port}/", port=port)
    yield server  # not started: nothing listens on the port yet
    server.stop()


@pytest.fixture
async def http(down_server: WireServer, mongodb_driver: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        mongodb_uri=down_server.uri, mongodb_server_selection_timeout_ms=500, mongodb_driver=mongodb_driver
    )
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as client:
        yield client
    await app.state.mongo.close()


async def test_down_then_up_without_a_restart(down_server: WireServer, http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/readyz")).status_code == 503

    body = (await http.post("/graphql", json={"query": QUERY})).json()
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "mongodb://" not in str(body) and "refused" not in str(body).lower()

    down_server.restart()
    from pymongo import MongoClient

    with MongoClient(down_server.uri) as sync:
        sync["power-scheduler"]["job"].insert_many([factories.job(DOMAIN) for _ in range(4)])
    # Motor answers the first ping; PyMongo's async client may still be in its monitor's
    # minimum heartbeat (500 ms) and answer one more 503: a few tries, never a restart.
    statuses = [(await http.get("/readyz")).status_code for _ in range(3)]
    assert statuses[-1] == 200 and statuses.count(503) <= 1
    body = (await http.post("/graphql", json={"query": QUERY})).json()
    assert body == {"data": {"jobs": {"totalCount": 4}}}
