"""The GraphQL endpoint: Strawberry's ASGI view with the gateway's per-request context."""

from __future__ import annotations

import json
import uuid
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.auth import ANONYMOUS
from gateway.context import GatewayContext
from gateway.graphiql import GraphiQLPage
from gateway.settings import Settings


class GatewayGraphQL(GraphQL[GatewayContext, None]):
    def __init__(self, schema: Any, *, settings: Settings, database: Any) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings
        self.database = database
        self.graphiql = GraphiQLPage(settings) if settings.graphiql else None

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        assert self.graphiql is not None  # Strawberry calls this only when the IDE is on
        return HTMLResponse(self.graphiql.html)

    def decode_json(self, data: str | bytes) -> object:
        """JSON bodies; one nested too deeply for the parser is a client error, not a crash."""
        try:
            return json.loads(data)
        except RecursionError:
            raise HTTPException(400, "the request body is nested too deeply") from None

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> GatewayContext:
        return GatewayContext(
            settings=self.settings,
            database=self.database,
            principal=ANONYMOUS,
            request=request,
            response=response,
            request_id=request.headers.get("x-request-id") or uuid.uuid4().hex,
        )
