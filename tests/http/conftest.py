"""An HTTP client on a gateway app in process (mongomock database), for the HTTP-surface tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings


@pytest.fixture
def app(settings: Settings, mock_db: Any) -> Starlette:
    return create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client
