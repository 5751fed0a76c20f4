"""The gateway as operators run it (``python -m gateway`` in its own process) over a wire server
of its own that is stopped and restarted under it; SIGTERM while a request is in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import httpx
import pytest
from pymongo import MongoClient

from tests import factories
from tests.conftest import DOMAIN
from tests.wire import WireServer, free_port

pytestmark = pytest.mark.wire

QUERY = '{ jobs(domainId: "%s") { totalCount } }' % DOMAIN
DATABASE = "power-scheduler"


@dataclass
class Gateway:
    process: subprocess.Popen[bytes]
    url: str
    log: IO[bytes]

    def stop(self) -> int:
        """SIGTERM, wait for the exit, and give the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.log.close()
        return code

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode()

    def query(self) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/graphql", json={"query": QUERY}, timeout=30)
        body: dict[str, Any] = response.json()
        return body

    def ready(self) -> int:
        return httpx.get(f"{self.url}/readyz", timeout=30).status_code


def start_gateway(mongo_uri: str, driver: str) -> Gateway:
    port = free_port()
    env = {
        **os.environ,
        "GATEWAY_MONGODB_URI": mongo_uri,
        "GATEWAY_MONGODB_SERVER_SELECTION_TIMEOUT_MS": "1500",
        "GATEWAY_SHUTDOWN_TIMEOUT": "20",
        "GATEWAY_PORT": str(port),
        "GATEWAY_MONGODB_DRIVER": driver,
    }
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "gateway"], env=env, stdout=log, stderr=subprocess.STDOUT)
    gateway = Gateway(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{gateway.url}/healthz", timeout=1).status_code == 200:
                return gateway
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    log.close()
    raise RuntimeError("the gateway did not start")


def wait_until(check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def insert_jobs(uri: str, count: int) -> None:
    with MongoClient(uri) as client:
        client[DATABASE]["job"].insert_many([factories.job(DOMAIN) for _ in range(count)])


@pytest.fixture
def own_server() -> Iterator[WireServer]:
    if os.environ.get("GATEWAY_TEST_MONGODB_URI"):
        pytest.skip("needs a wire server this test can stop and restart")
    server = WireServer.start()
    yield server
    server.stop()


@pytest.fixture
def gateway(own_server: WireServer, mongodb_driver: str) -> Iterator[Gateway]:
    gateway = start_gateway(own_server.uri, mongodb_driver)
    yield gateway
    if not gateway.log.closed:
        gateway.stop()


def test_the_wire_server_stops_and_returns_under_a_running_gateway(
    own_server: WireServer, gateway: Gateway
) -> None:
    insert_jobs(own_server.uri, 3)
    assert gateway.query() == {"data": {"jobs": {"totalCount": 3}}}

    own_server.stop()
    assert gateway.ready() == 503
    body = gateway.query()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert "27017" not in json.dumps(body) and "mongodb://" not in json.dumps(body)

    own_server.restart()  # in memory: it comes back empty
    wait_until(lambda: gateway.ready() == 200)
    insert_jobs(own_server.uri, 2)
    # a pooled connection from before the outage may fail once more; recovery is eventual
    wait_until(lambda: gateway.query() == {"data": {"jobs": {"totalCount": 2}}})
    assert gateway.process.poll() is None  # never restarted


def test_unreachable_at_start_then_recovers(mongodb_driver: str) -> None:
    port = free_port()
    server = WireServer(uri=f"mongodb://127.0.0.1:{port}/", port=port)
    gateway = start_gateway(server.uri, mongodb_driver)
    try:
        assert gateway.ready() == 503
        assert gateway.query()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        server.restart()  # starts it on the port the gateway was given
        wait_until(lambda: gateway.ready() == 200)
        insert_jobs(server.uri, 1)
        assert gateway.query() == {"data": {"jobs": {"totalCount": 1}}}
    finally:
        gateway.stop()
        server.stop()


def test_sigterm_lets_the_request_in_flight_finish(own_server: WireServer, gateway: Gateway) -> None:
    own_server.stop()  # a query now waits for server selection: a request in flight
    answers: list[dict[str, Any]] = []
    client = threading.Thread(target=lambda: answers.append(gateway.query()))
    client.start()
    time.sleep(0.5)
    gateway.process.send_signal(signal.SIGTERM)
    client.join(timeout=30)
    gateway.process.wait(timeout=30)
    output = gateway.output()
    # uvicorn re-raises the signal once it has shut down cleanly: the exit status is SIGTERM's.
    assert gateway.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in output
    assert [e["extensions"]["code"] for e in answers[0]["errors"]] == ["SERVICE_UNAVAILABLE"]
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    request_lines = [e for e in events if e.get("logger") == "gateway.request"]
    assert [(e["path"], e["outcome"]) for e in request_lines][-1] == ("/graphql", "error")
