"""The only module that imports the driver: opening, pinging and closing the MongoDB client,
and turning driver failures into the gateway's errors.

Two drivers, chosen by ``GATEWAY_MONGODB_DRIVER``: Motor (the default) and PyMongo's own
``AsyncMongoClient``. Both are handed out with Motor's call shapes, so nothing else can tell them
apart: PyMongo's ``aggregate``, ``watch`` and ``list_indexes`` are coroutines that return their
cursor, Motor's return the cursor at once (sent on first use); :class:`PyMongoClient` and its
database and collection wrappers return such a cursor for PyMongo too (:class:`OpeningCursor`).
``close`` of a client differs too (a coroutine in PyMongo): :func:`close_client` closes either.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, get_args

from bson.errors import InvalidDocument
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import (
    ConnectionFailure,
    DocumentTooLarge,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from gateway.errors import QueryError, ResyncRequired, ServiceUnavailable, Timeout
from gateway.settings import MongoDriver, Settings

log = logging.getLogger(__name__)

DRIVERS: tuple[MongoDriver, ...] = get_args(MongoDriver)


@dataclass(slots=True)
class MongoHandle:
    """An open client and the database the gateway reads."""

    client: Any
    database: Any
    embedded: bool

    async def ping(self) -> bool:
        try:
            await self.database.command("ping")
        except PyMongoError:
            return False
        return True

    async def close(self) -> None:
        await close_client(self.client)


def driver_client(uri: str, driver: MongoDriver = "motor", **options: Any) -> Any:
    """A client of ``driver`` on ``uri`` (no I/O yet), with Motor's call shapes whichever it is;
    ``options`` are the driver's own (``tz_aware``, ``maxPoolSize``, ``event_listeners``…)."""
    if driver == "motor":
        return AsyncIOMotorClient(uri, **options)
    if driver == "pymongo":
        return PyMongoClient(AsyncMongoClient(uri, **options))
    raise ValueError(f"unknown MongoDB driver {driver!r}; choose one of {', '.join(DRIVERS)}")


async def close_client(client: Any) -> None:
    """Close a client of either driver (or mongomock's): PyMongo's ``close`` is a coroutine."""
    closing = client.close()
    if inspect.isawaitable(closing):
        await closing


def open_mongo(settings: Settings, listeners: Sequence[monitoring.CommandListener] = ()) -> MongoHandle:
    """Connect lazily (no I/O here) to ``GATEWAY_MONGODB_URI``: the gateway starts even while
    MongoDB is down."""
    if not settings.mongodb_uri:
        raise ValueError("open_mongo needs GATEWAY_MONGODB_URI (gateway.demo opens the demo database)")
    client = driver_client(
        settings.mongodb_uri,
        settings.mongodb_driver,
        tz_aware=False,
        serverSelectionTimeoutMS=settings.mongodb_server_selection_timeout_ms,
        connectTimeoutMS=settings.mongodb_server_selection_timeout_ms,
        # a server that stops answering mid-command must not hang a request either
        socketTimeoutMS=settings.max_time_ms + settings.mongodb_server_selection_timeout_ms,
        maxPoolSize=settings.mongodb_max_pool_size,
        appname="jobs-gateway",
        event_listeners=list(listeners),
    )
    return MongoHandle(client, client[settings.mongodb_database], embedded=False)


class _Delegate:
    """A PyMongo object whose attributes are its own unless overridden (``delegate`` names it,
    as in Motor)."""

    __slots__ = ("delegate",)

    def __init__(self, delegate: Any) -> None:
        self.delegate = delegate

    def __getattr__(self, name: str) -> Any:
        return getattr(self.delegate, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.delegate!r})"


class _Aggregates(_Delegate):
    """A PyMongo database or collection whose ``aggregate`` and ``watch`` return their cursor at
    once (Motor's shape)."""

    __slots__ = ()

    def aggregate(self, pipeline: Any, **kwargs: Any) -> OpeningCursor:
        return OpeningCursor(functools.partial(self.delegate.aggregate, pipeline, **kwargs))

    def watch(self, *args: Any, **kwargs: Any) -> OpeningCursor:
        return OpeningCursor(functools.partial(self.delegate.watch, *args, **kwargs))


class PyMongoClient(_Delegate):
    """``AsyncMongoClient`` whose databases are :class:`PyMongoDatabase`."""

    __slots__ = ()

    def __getitem__(self, name: str) -> PyMongoDatabase:
        return PyMongoDatabase(self.delegate[name], self)

    def get_database(self, *args: Any, **kwargs: Any) -> PyMongoDatabase:
        return PyMongoDatabase(self.delegate.get_database(*args, **kwargs), self)

    async def drop_database(self, database: Any, **kwargs: Any) -> None:
        await self.delegate.drop_database(getattr(database, "delegate", database), **kwargs)


class PyMongoDatabase(_Aggregates):
    """``AsyncDatabase`` whose collections are :class:`PyMongoCollection` and whose
    ``aggregate`` and ``watch`` return their cursor at once."""

    __slots__ = ("client",)

    def __init__(self, delegate: Any, client: PyMongoClient) -> None:
        super().__init__(delegate)
        self.client = client

    def __getitem__(self, name: str) -> PyMongoCollection:
        return PyMongoCollection(self.delegate[name], self)

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.delegate, name)
        return PyMongoCollection(found, self) if isinstance(found, AsyncCollection) else found

    def get_collection(self, *args: Any, **kwargs: Any) -> PyMongoCollection:
        return PyMongoCollection(self.delegate.get_collection(*args, **kwargs), self)


class PyMongoCollection(_Aggregates):
    """``AsyncCollection`` whose ``aggregate``, ``watch`` and ``list_indexes`` return their
    cursor at once; ``find`` already does."""

    __slots__ = ("database",)

    def __init__(self, delegate: Any, database: PyMongoDatabase) -> None:
        super().__init__(delegate)
        self.database = database

    def list_indexes(self, **kwargs: Any) -> OpeningCursor:
        return OpeningCursor(functools.partial(self.delegate.list_indexes, **kwargs))


class OpeningCursor:
    """A PyMongo cursor or change stream that ``open`` creates (sending its first command) on
    first use, as Motor's are: ``to_list``, ``async for``, ``next``, ``try_next``, ``close``,
    ``resume_token``."""

    __slots__ = ("_open", "_cursor")

    def __init__(self, open: Callable[[], Awaitable[Any]]) -> None:
        self._open = open
        self._cursor: Any = None

    async def _opened(self) -> Any:
        if self._cursor is None:
            self._cursor = await self._open()
        return self._cursor

    async def to_list(self, length: int | None = None) -> list[Any]:
        found: list[Any] = await (await self._opened()).to_list(length)
        return found

    def __aiter__(self) -> OpeningCursor:
        return self

    async def __anext__(self) -> Any:
        cursor = self._cursor if self._cursor is not None else await self._opened()
        return await cursor.__anext__()

    async def next(self) -> Any:
        return await (await self._opened()).next()

    async def try_next(self) -> Any:
        return await (await self._opened()).try_next()

    @property
    def resume_token(self) -> Any:
        return None if self._cursor is None else self._cursor.resume_token

    @property
    def alive(self) -> bool:
        return self._cursor is None or bool(self._cursor.alive)

    async def close(self) -> None:
        if self._cursor is not None:
            await self._cursor.close()


def gateway_error(error: BaseException) -> Exception | None:
    """The gateway error a driver failure a client may see becomes (logged here), or None: the
    error is not the driver's and propagates as it is."""
    if isinstance(error, ExecutionTimeout):
        log.warning("MongoDB command exceeded maxTimeMS: %s", error)
        return Timeout("the query took longer than the server-side time limit")
    if isinstance(error, NetworkTimeout):  # connected, but the server stopped answering
        log.warning("MongoDB did not answer in time: %s", error)
        return Timeout("the job database did not answer in time")
    if isinstance(error, (ServerSelectionTimeoutError, ConnectionFailure)):
        log.warning("MongoDB unavailable: %s", error)
        return ServiceUnavailable("the job database is not reachable; try again shortly")
    if isinstance(error, (InvalidDocument, DocumentTooLarge, OverflowError, UnicodeEncodeError)):
        # The compiler refuses such values first; this is the backstop for anything it missed.
        log.warning("query could not be encoded for MongoDB: %s", error)
        return QueryError("the query holds a value MongoDB cannot store")
    if isinstance(error, OperationFailure):
        log.warning("MongoDB refused a query (code %s): %s", error.code, error)
        return QueryError("MongoDB refused the query; check the patterns and values")
    return None


def pipeline_error(error: BaseException) -> Exception | None:
    """:func:`gateway_error`, and a pipeline the server refuses on the stored data (say, ``$size``
    of a non-array) becomes a client error without the server's text."""
    if isinstance(error, OperationFailure) and not isinstance(error, ExecutionTimeout):
        log.info("aggregation refused by MongoDB (code %s): %s", error.code, error)
        return QueryError(
            "the statistics query cannot be computed on the stored data: an operator met a "
            "value of a type it does not accept (for example arithmetic on a text field)"
        )
    return gateway_error(error)


@contextmanager
def driver_errors() -> Iterator[None]:
    """Translate driver failures a client may see into gateway errors (others propagate)."""
    try:
        yield
    except Exception as error:
        translated = gateway_error(error)
        if translated is None:
            raise
        raise translated from error


class ChangeStreamsUnsupported(Exception):
    """The database cannot open a change stream (a standalone server, the embedded demo)."""


@contextmanager
def change_stream_errors(*, resuming: bool) -> Iterator[None]:
    """Driver failures of a change stream: an unreachable server is SERVICE_UNAVAILABLE; a
    refusal while resuming from a token (history lost, malformed token) is RESYNC_REQUIRED; a
    refusal of a fresh stream means the server has no change streams."""
    try:
        yield
    except (ServerSelectionTimeoutError, ConnectionFailure) as error:
        log.warning("MongoDB unavailable for the change stream: %s", error)
        raise ServiceUnavailable("the job database is not reachable; try again shortly") from error
    except OperationFailure as error:
        if resuming:
            log.info("change stream cannot resume (code %s): %s", error.code, error)
            raise ResyncRequired(
                "the cursor is too old (or not a cursor of this feed) to resume from; query "
                "again, then subscribe without `after`"
            ) from error
        raise ChangeStreamsUnsupported(str(error)) from error
    except NotImplementedError as error:  # mongomock
        raise ChangeStreamsUnsupported("the embedded database has no change streams") from error
