"""Subscriptions over WebSocket: Strawberry's ``graphql-transport-ws`` and legacy ``graphql-ws``
handlers with the gateway's rules on top.

- The token comes in the ``connection_init`` payload (``{"Authorization": "Bearer …"}``) or the
  upgrade request's ``Authorization`` header and is checked by the same authenticator as
  queries; a refusal closes the socket with 4403 (both protocols); the socket is closed with
  4403 when the token expires.
- A malformed message (not an object, no ``id``, a ``payload`` that is not an object with a
  string ``query``) closes the socket with 4400 (``graphql-transport-ws``) or is answered with an
  ``error`` message (``graphql-ws``): a protocol error, never a crashed handler.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from typing import Any

from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from gateway.context import GatewayContext
from gateway.errors import GatewayError

CLOSE_FORBIDDEN = 4403
CLOSE_BAD_MESSAGE = 4400


def _valid_operation(message: Any, start: str) -> bool:
    """A subscribe/start message: a string ``id`` and an object payload with a string query."""
    if message.get("type") != start:
        return True
    payload = message.get("payload")
    return (
        isinstance(message.get("id"), str)
        and isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("variables") or {}, dict)
        and isinstance(payload.get("operationName") or "", str)
    )


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Sends every message as a text frame: both protocols are text-only, and clients such as
    ``graphql-ws`` refuse binary frames (the view's JSON encoder gives bytes)."""

    async def send_json(self, message: Any) -> None:
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


class _TokenExpiry:
    """Closes the socket when the connection's token expires; sends keep-alive pings."""

    expiry_task: asyncio.Task[None] | None = None
    ping_task: asyncio.Task[None] | None = None

    def keep_alive_pings(self, send: Any, interval: float) -> None:
        async def ping() -> None:
            while True:
                await asyncio.sleep(interval)
                await send({"type": "ping"})

        self.ping_task = asyncio.create_task(ping())

    def watch_expiry(self, context: GatewayContext, close: Any) -> None:
        expires_at = context.principal.expires_at
        if expires_at is None:
            return

        async def close_at_expiry() -> None:
            await asyncio.sleep(max(0.0, expires_at - time.time()))
            with suppress(Exception):
                await close(CLOSE_FORBIDDEN, "the token has expired")

        self.expiry_task = asyncio.create_task(close_at_expiry())

    def stop_expiry(self) -> None:
        for task in (self.expiry_task, self.ping_task):
            if task is not None:
                task.cancel()


class TransportWSHandler(BaseGraphQLTransportWSHandler[GatewayContext, None], _TokenExpiry):
    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.handle_invalid_message("messages must be objects with a string type")
            return
        if not _valid_operation(message, "subscribe"):
            await self.handle_invalid_message("a subscribe message needs an id and a query")
            return
        if message["type"] == "subscribe":
            self.context.spent.clear()  # request cost limits count per operation, not per socket
        await super().handle_message(message)  # type: ignore[arg-type]

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self.watch_expiry(self.context, lambda code, reason: self.websocket.close(code, reason))
            view: Any = self.view
            self.keep_alive_pings(self.send_message, view.keep_alive_interval)

    async def shutdown(self) -> None:
        self.stop_expiry()
        await super().shutdown()


class LegacyWSHandler(BaseGraphQLWSHandler[GatewayContext, None], _TokenExpiry):
    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.websocket.send_json(
                {"type": "error", "payload": {"message": "messages must be objects with a type"}}
            )
            return
        if message.get("type") == "start":
            self.context.spent.clear()  # request cost limits count per operation, not per socket
        if not _valid_operation(message, "start"):
            operation_id = message.get("id")
            await self.websocket.send_json(
                {
                    "type": "error",
                    "id": operation_id if isinstance(operation_id, str) else None,
                    "payload": {"message": "a start message needs an id and a query"},
                }
            )
            return
        await super().handle_message(message)  # type: ignore[arg-type]

    async def handle_connection_init(self, message: Any) -> None:
        view: Any = self.view
        try:
            await view.authenticate_connection(self.context, message.get("payload"))
        except GatewayError as refusal:
            await self.websocket.send_json(
                {
                    "type": "connection_error",
                    "payload": {"message": refusal.message, "extensions": refusal.extensions},
                }
            )
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason="Forbidden")
            return
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self.watch_expiry(self.context, lambda code, reason: self.websocket.close(code, reason))

    async def cleanup(self) -> None:
        self.stop_expiry()
        await super().cleanup()
