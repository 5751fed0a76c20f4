"""Every wire-server test here runs with each driver (``GATEWAY_MONGODB_DRIVER``): a test that
reaches the ``mongodb_driver`` fixture, directly or through ``wire_db`` and its kin, is run once
with Motor and once with PyMongo's ``AsyncMongoClient``."""

from __future__ import annotations

import pytest

from gateway.mongo.client import DRIVERS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mongodb_driver" in metafunc.fixturenames:
        metafunc.parametrize("mongodb_driver", DRIVERS, indirect=True, scope="session")
