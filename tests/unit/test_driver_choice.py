"""GATEWAY_MONGODB_DRIVER picks the client class; both come with Motor's call shapes."""

from __future__ import annotations

import pytest
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from gateway.mongo.client import OpeningCursor, PyMongoClient, close_client, open_mongo
from gateway.settings import Settings

URI = "mongodb://127.0.0.1:1/"  # never contacted: clients connect lazily


async def test_motor_is_the_default() -> None:
    handle = open_mongo(Settings(mongodb_uri=URI))
    assert isinstance(handle.client, AsyncIOMotorClient)
    assert isinstance(handle.database, AsyncIOMotorDatabase)
    await handle.close()


async def test_pymongo_gives_its_async_client_with_motors_call_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_MONGODB_DRIVER", "pymongo")
    settings = Settings(mongodb_uri=URI, mongodb_database="jobs")
    handle = open_mongo(settings)
    assert isinstance(handle.client, PyMongoClient)
    assert isinstance(handle.client.delegate, AsyncMongoClient)
    jobs = handle.database["job"]
    assert isinstance(jobs.delegate, AsyncCollection) and jobs.database is handle.database
    assert handle.database.name == "jobs" and handle.database.client is handle.client
    # aggregate and watch hand back their cursor at once, as Motor's do, sending nothing yet
    assert isinstance(jobs.aggregate([{"$match": {}}]), OpeningCursor)
    assert isinstance(handle.database.aggregate([{"$documents": []}]), OpeningCursor)
    stream = jobs.watch([], full_document="updateLookup")
    assert stream.resume_token is None
    await stream.close()
    await handle.close()


def test_an_unknown_driver_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_MONGODB_DRIVER", "pymongo-sync")
    with pytest.raises(ValueError, match="mongodb_driver"):
        Settings(mongodb_uri=URI)


async def test_close_client_closes_either_driver() -> None:
    for client in (AsyncIOMotorClient(URI), PyMongoClient(AsyncMongoClient(URI))):
        await close_client(client)
