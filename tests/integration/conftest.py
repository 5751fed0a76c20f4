"""Every wire-server test here runs with each driver (``GATEWAY_MONGODB_DRIVER``): a test that
reaches the ``mongodb_driver`` fixture, directly or through ``wire_db`` and its kin, is run once
with Motor and once with PyMongo's ``AsyncMongoClient``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from gateway.mongo.client import DRIVERS
from tests.integration.live_support import DATABASE, make_keys
from tests.tokens import KeyPair
from tests.wire import WireServer


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mongodb_driver" in metafunc.fixturenames:
        metafunc.parametrize("mongodb_driver", DRIVERS, indirect=True, scope="session")


# The live-update tests' own database server (they restart it), keys and job collection.


@pytest.fixture(scope="module")
def server() -> Iterator[WireServer]:
    wire = WireServer.start()
    yield wire
    wire.stop()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[KeyPair, Path]:
    return make_keys(tmp_path_factory.mktemp("live-keys"))


@pytest.fixture
def jobs(server: WireServer) -> Iterator[Any]:
    with MongoClient(server.uri, tz_aware=False) as client:
        yield client[DATABASE]["job"]
