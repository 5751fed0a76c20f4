"""Shared fixtures: settings, an in-process database (mongomock-motor), a real wire server
(SecantusDB or ``GATEWAY_TEST_MONGODB_URI``) with a command recorder, and a GraphQL client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from mongomock_motor import AsyncMongoMockClient

from gateway.app import create_app
from gateway.mongo.client import MongoHandle, close_client, driver_client
from gateway.settings import Settings
from tests.live import LiveGateway
from tests.tenant_guard import GUARD as TENANT_GUARD
from tests.wire import CommandRecorder, WireServer

DOMAIN = "domain-aaaaaaaaaaaa"
OTHER_DOMAIN = "domain-bbbbbbbbbbbb"
DATABASE = "power-scheduler"


@pytest.fixture(autouse=True)
def tenant_scope_checked() -> Iterator[None]:
    """Fails any test during which a read command reached the wire server without the domain
    condition (see tests/tenant_guard.py)."""
    TENANT_GUARD.reset()
    yield
    if TENANT_GUARD.violations:
        pytest.fail("unscoped MongoDB commands:\n" + "\n".join(TENANT_GUARD.violations))


@pytest.fixture
def settings() -> Settings:
    return Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)


@pytest.fixture
def mock_db() -> Any:
    return AsyncMongoMockClient(tz_aware=False)[DATABASE]


@dataclass
class GraphQLClient:
    """Posts GraphQL documents to an app in process (the real HTTP stack, no socket)."""

    http: httpx.AsyncClient

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body


async def seed(database: Any, jobs: list[dict[str, Any]], controllers: list[dict[str, Any]] = ()) -> None:  # type: ignore[assignment]
    if jobs:
        await database["job"].insert_many([dict(doc) for doc in jobs])
    if controllers:
        await database["controller"].insert_many([dict(doc) for doc in controllers])


@asynccontextmanager
async def client_for(settings: Settings, database: Any) -> AsyncIterator[GraphQLClient]:
    """A GraphQL client on a fresh app over ``database`` with these settings."""
    app = create_app(settings, MongoHandle(database.client, database, embedded=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield GraphQLClient(http)


@pytest.fixture
async def mock_client(settings: Settings, mock_db: Any) -> AsyncIterator[GraphQLClient]:
    async with client_for(settings, mock_db) as client:
        yield client


@pytest.fixture(scope="session")
def wire_server() -> Iterator[WireServer]:
    server = WireServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def command_recorder() -> CommandRecorder:
    return CommandRecorder()


@pytest.fixture(scope="session")
def mongodb_driver(request: pytest.FixtureRequest) -> str:
    """The driver of the wire-server tests: Motor, unless a conftest parametrizes it
    (tests/integration runs each of its wire tests with both drivers)."""
    return str(getattr(request, "param", "motor"))


@pytest.fixture(scope="session")
async def wire_driver(
    wire_server: WireServer, command_recorder: CommandRecorder, mongodb_driver: Any
) -> AsyncIterator[Any]:
    """A client of the wire server, of the driver ``mongodb_driver`` names."""
    client = driver_client(
        wire_server.uri,
        mongodb_driver,
        tz_aware=False,
        serverSelectionTimeoutMS=5000,
        event_listeners=[command_recorder, TENANT_GUARD],
    )
    yield client
    await close_client(client)


@pytest.fixture
async def wire_db(wire_driver: Any, command_recorder: CommandRecorder) -> AsyncIterator[Any]:
    """A fresh, empty database on the wire server for one test."""
    name = f"test-{id(object()):x}"
    database = wire_driver[name]
    command_recorder.clear()
    yield database
    command_recorder.enabled = False
    await wire_driver.drop_database(name)
    command_recorder.enabled = True
    command_recorder.clear()


@pytest.fixture
async def wire_client(settings: Settings, wire_db: Any) -> AsyncIterator[GraphQLClient]:
    async with client_for(settings, wire_db) as client:
        yield client


@dataclass
class Backend:
    """A GraphQL client and the database behind it (in-process mongomock, or the wire server)."""

    name: str
    client: GraphQLClient
    db: Any


@pytest.fixture(params=["mongomock", "wire"])
def backend_db(request: pytest.FixtureRequest) -> tuple[str, Any]:
    return request.param, request.getfixturevalue("mock_db" if request.param == "mongomock" else "wire_db")


@pytest.fixture
async def backend(backend_db: tuple[str, Any], settings: Settings) -> AsyncIterator[Backend]:
    name, database = backend_db
    async with client_for(settings, database) as client:
        yield Backend(name, client, database)


@pytest.fixture(scope="session")
def demo_gateway() -> Iterator[LiveGateway]:
    """``python -m gateway`` on the embedded demo data, on a free port, for the whole session."""
    gateway = LiveGateway.start()
    yield gateway
    gateway.stop()
