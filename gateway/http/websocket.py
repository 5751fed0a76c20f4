"""Subscriptions over WebSocket: Strawberry's ``graphql-transport-ws`` and legacy ``graphql-ws``
handlers with the gateway's rules on top.

- The token comes in the ``connection_init`` payload (``{"Authorization": "Bearer …"}``) or the
  upgrade request's ``Authorization`` header and is checked by the same authenticator as
  queries; a refusal closes the socket with 4403 (both protocols); the socket is closed with
  4403 when the token expires.
- A ``jobsChanged`` subscription shares its execution with the identical subscriptions of the
  process (``gateway.http.shared_subscriptions``): each event is executed and encoded once per
  group, and each member is sent its own pre-encoded frame.
- A malformed message (not an object, no ``id``, a ``payload`` that is not an object with a
  string ``query``) closes the socket with 4400 (``graphql-transport-ws``) or is answered with an
  ``error`` message (``graphql-ws``): a protocol error, never a crashed handler.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress
from typing import Any

from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from gateway.context import GatewayContext
from gateway.errors import GatewayError
from gateway.http.shared_subscriptions import SharedSubscriptions, shareable

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

    async def send_text(self, text: str) -> None:
        """Send a frame encoded already (a shared subscription's)."""
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


def _prefix(message_type: str, operation_id: str) -> str:
    """A ``next``/``data`` message up to its payload, which is spliced in after it."""
    return f'{{"type":"{message_type}","id":{json.dumps(operation_id)},"payload":'


async def serve_shared(
    view: Any,
    context: GatewayContext,
    websocket: Any,
    prefix: str,
    query: str,
    variables: Any,
    operation_name: str | None,
) -> bool | None:
    """Run the operation in its group: True when it ended, False when it must run on its own
    after all, None when it is not shared."""
    shared: SharedSubscriptions | None = getattr(view, "shared", None)
    share = shareable(context, query, variables, operation_name) if shared is not None else None
    if shared is None or share is None:
        return None
    return await shared.serve(share, context, prefix, websocket.send_text, query, variables, operation_name)


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

    async def run_operation(self, operation: Operation[GatewayContext, None]) -> None:
        served = await serve_shared(
            self.view,
            self.context,
            self.websocket,
            _prefix("next", operation.id),
            operation.query,
            operation.variables,
            operation.operation_name,
        )
        if not served:
            await super().run_operation(operation)
            return
        await operation.send_operation_message({"id": operation.id, "type": "complete"})

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

    async def handle_async_results(
        self, operation_id: str, query: str, operation_name: str | None, variables: dict[str, object] | None
    ) -> None:
        try:
            prefix = _prefix("data", operation_id)
            served = await serve_shared(
                self.view, self.context, self.websocket, prefix, query, variables, operation_name
            )
            if not served:
                await super().handle_async_results(operation_id, query, operation_name, variables)
                return
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:  # stopped: as Strawberry's own results handler answers
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            if self.tasks.get(operation_id) is asyncio.current_task():
                self.tasks.pop(operation_id, None)

    async def cleanup(self) -> None:
        self.stop_expiry()
        await super().cleanup()
