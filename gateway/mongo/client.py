"""The only module that imports the driver: opening, pinging and closing the MongoDB client,
and turning driver failures into the gateway's errors.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bson.errors import InvalidDocument
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import monitoring
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
from gateway.settings import Settings

log = logging.getLogger(__name__)


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

    def close(self) -> None:
        self.client.close()


def open_mongo(settings: Settings, listeners: Sequence[monitoring.CommandListener] = ()) -> MongoHandle:
    """Connect lazily (no I/O here) to ``GATEWAY_MONGODB_URI``: the gateway starts even while
    MongoDB is down."""
    if not settings.mongodb_uri:
        raise ValueError("open_mongo needs GATEWAY_MONGODB_URI (gateway.demo opens the demo database)")
    client: Any = AsyncIOMotorClient(
        settings.mongodb_uri,
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


@contextmanager
def driver_errors() -> Iterator[None]:
    """Translate driver failures a client may see into gateway errors (others propagate)."""
    try:
        yield
    except ExecutionTimeout as error:
        log.warning("MongoDB command exceeded maxTimeMS: %s", error)
        raise Timeout("the query took longer than the server-side time limit") from error
    except NetworkTimeout as error:  # connected, but the server stopped answering
        log.warning("MongoDB did not answer in time: %s", error)
        raise Timeout("the job database did not answer in time") from error
    except (ServerSelectionTimeoutError, ConnectionFailure) as error:
        log.warning("MongoDB unavailable: %s", error)
        raise ServiceUnavailable("the job database is not reachable; try again shortly") from error
    except (InvalidDocument, DocumentTooLarge, OverflowError, UnicodeEncodeError) as error:
        # The compiler refuses such values first; this is the backstop for anything it missed.
        log.warning("query could not be encoded for MongoDB: %s", error)
        raise QueryError("the query holds a value MongoDB cannot store") from error
    except OperationFailure as error:
        log.warning("MongoDB refused a query (code %s): %s", error.code, error)
        raise QueryError("MongoDB refused the query; check the patterns and values") from error


@contextmanager
def pipeline_errors() -> Iterator[None]:
    """:func:`driver_errors`, and a pipeline the server refuses on the stored data (say, ``$size``
    of a non-array) becomes a client error without the server's text."""
    with driver_errors():
        try:
            yield
        except ExecutionTimeout:
            raise
        except OperationFailure as error:
            log.info("aggregation refused by MongoDB (code %s): %s", error.code, error)
            raise QueryError(
                "the statistics query cannot be computed on the stored data: an operator met a "
                "value of a type it does not accept (for example arithmetic on a text field)"
            ) from error


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
