"""The GraphQL endpoint: Strawberry's ASGI view with the gateway's per-request context, serving
HTTP by the GraphQL-over-HTTP rules of :mod:`gateway.http.protocol`, persisted queries
(:mod:`gateway.http.persisted`) and metrics. Browsers get GraphiQL (``render_graphql_ide``)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.auth import ANONYMOUS, Authenticator
from gateway.context import GatewayContext
from gateway.encoding import json_bytes
from gateway.errors import GatewayError, Unauthenticated
from gateway.http.graphiql import GraphiQLPage
from gateway.http.persisted import PersistedQueries
from gateway.http.protocol import (
    ALLOWED_METHODS,
    APPLICATION_JSON,
    GraphQLParams,
    RequestRejected,
    check_content_type,
    decode_body,
    decode_query_string,
    error_body,
    negotiate,
    response_status,
    wants_html,
)
from gateway.http.websocket import LegacyWSHandler, TextWebSocketAdapter, TransportWSHandler
from gateway.live.hub import LiveHub
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.requests import current_request, request_id_from
from gateway.settings import Settings
from schema.extensions.errors import finalize_errors

log = logging.getLogger("gateway")

GET_OPERATIONS = frozenset({OperationType.QUERY})
POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
"""Subscriptions are served over WebSocket and Server-Sent Events, not plain POST."""
_NOT_CACHEABLE_CODES = frozenset({"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"})


class GatewayGraphQL(GraphQL[GatewayContext, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = TextWebSocketAdapter

    def __init__(
        self,
        schema: Any,
        *,
        settings: Settings,
        database: Any,
        persisted: PersistedQueries | None = None,
        metrics: GatewayMetrics | None = None,
        authenticator: Authenticator | None = None,
        live: LiveHub | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            keep_alive=True,
            keep_alive_interval=settings.ws_keep_alive_seconds,
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL
            ),
            connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout),
        )
        # Subscriptions are limited (with a code) by the live hub; this bounds every operation
        # in flight on one socket, queries included.
        self.max_subscriptions_per_connection = 2 * settings.max_subscriptions_per_connection
        self.live = live
        self.settings = settings
        self.database = database
        self.persisted = persisted or PersistedQueries(settings.persisted_queries_cache_size)
        self.metrics = metrics
        self.authenticator = authenticator or Authenticator()
        self.graphiql = GraphiQLPage(settings) if settings.graphiql else None

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        assert self.graphiql is not None  # Strawberry calls this only when the IDE is on
        return HTMLResponse(self.graphiql.html)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> GatewayContext:
        stats = current_request.get()
        # Authentication: a refused token is kept on the context; the operation (or REST call)
        # is then answered with UNAUTHENTICATED before anything runs (check_authenticated).
        principal, refusal = ANONYMOUS, None
        try:
            principal = self.authenticator.principal_for(request.headers.get("authorization"))
        except GatewayError as error:
            refusal = error
        except Exception:  # a bug in token handling must not become a bare 500
            log.exception("unexpected error while reading the token")
            refusal = Unauthenticated("the token could not be verified")
        return GatewayContext(
            settings=self.settings,
            database=self.database,
            principal=principal,
            auth_error=refusal,
            request=request,
            response=response,
            request_id=stats.request_id if stats else request_id_from(
                request.headers.get("x-request-id")
            ),
            on_batch=self.metrics.observe_batch if self.metrics else None,
            live=self.live,
        )

    async def authenticate_connection(self, context: GatewayContext, payload: Any) -> None:
        """A live connection's caller: the ``connection_init`` payload's ``Authorization``, else
        the upgrade request's header; raises the refusal (GatewayError)."""
        authorization = None
        if isinstance(payload, dict):
            authorization = payload.get("Authorization", payload.get("authorization"))
        if not isinstance(authorization, str):
            authorization = context.request.headers.get("authorization")
        try:
            context.principal = self.authenticator.principal_for(authorization)
        except GatewayError:
            raise
        except Exception:
            log.exception("unexpected error while reading the token")
            raise Unauthenticated("the token could not be verified") from None
        context.auth_error = None

    async def on_ws_connect(self, context: GatewayContext) -> Any:
        try:
            await self.authenticate_connection(context, context.connection_params)
        except GatewayError as refusal:
            raise ConnectionRejectionError(
                {"message": refusal.message, "extensions": refusal.extensions}
            ) from None
        return None

    def encode_json(self, data: object) -> bytes:
        return json_bytes(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # WebSocket: Strawberry's handlers
            return
        request = Request(scope, receive)
        if wants_event_stream(request.headers.get("accept")) and request.method in ("GET", "POST"):
            await self.serve_event_stream(request, scope, receive, send)
            return
        response = await self.handle_http(request)
        await response(scope, receive, send)

    async def serve_event_stream(
        self, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """GraphQL over Server-Sent Events (distinct connections), by Strawberry's transport,
        once the token is accepted (401 otherwise)."""
        try:
            self.authenticator.principal_for(request.headers.get("authorization"))
        except GatewayError as refusal:
            response = self.json_response(
                _gateway_error_body(refusal), 401, APPLICATION_JSON,
                {"WWW-Authenticate": 'Bearer realm="jobs-gateway"'},
            )
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    # GraphQL over HTTP ------------------------------------------------------------------

    def is_graphql_ide_request(self, request: Request) -> bool:
        """A browser opening the endpoint: GET, no GraphQL parameters, HTML accepted."""
        params = request.query_params
        return (
            request.method == "GET"
            and "query" not in params
            and "extensions" not in params
            and wants_html(request.headers.get("accept"))
        )

    async def handle_http(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            return self.json_response(
                error_body(f"{request.method} is not supported; use GET or POST",
                           "METHOD_NOT_ALLOWED"),
                405, APPLICATION_JSON, {"Allow": ALLOWED_METHODS},
            )
        if self.is_graphql_ide_request(request):
            if self.graphql_ide:
                return await self.render_graphql_ide(request)
            return self.json_response(
                error_body("GraphiQL is disabled", "BAD_REQUEST"), 404, APPLICATION_JSON
            )
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            return self.json_response(
                error_body("the Accept header admits neither application/graphql-response+json "
                           "nor application/json", "NOT_ACCEPTABLE"),
                406, APPLICATION_JSON,
            )
        started = time.perf_counter()
        params: GraphQLParams | None = None
        try:
            params = await self.read_params(request)
            body, headers = await self.execute_params(request, params)
            status = response_status(body, media_type)
        except RequestRejected as rejected:
            body, headers = error_body(rejected.message, rejected.code), rejected.headers
            status = rejected.status
        self.observe(params, body, status, time.perf_counter() - started)
        if request.method == "GET" and status == 200 and not body.get("errors"):
            if self.settings.get_cache_control:
                headers = {**headers, "Cache-Control": self.settings.get_cache_control}
        return self.json_response(body, status, media_type, headers)

    async def read_params(self, request: Request) -> GraphQLParams:
        if request.method == "GET":
            query_params = request.query_params
            return decode_query_string(
                {name: query_params.getlist(name) for name in query_params.keys()}
            )
        check_content_type(request.headers.get("content-type"))
        return decode_body(await request.body())

    async def execute_params(
        self, request: Request, params: GraphQLParams
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Run one operation; the body to send and headers set by resolvers."""
        try:
            document = self.persisted.resolve(params.query, params.extensions)
        except GatewayError as error:
            return _gateway_error_body(error), {}
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        if context.auth_error is not None:
            return _gateway_error_body(context.auth_error), {
                "WWW-Authenticate": 'Bearer realm="jobs-gateway"'
            }
        try:
            result = await self.schema.execute(
                document,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=(
                    GET_OPERATIONS if request.method == "GET" else POST_OPERATIONS
                ),
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise RequestRejected(
                    400, "subscriptions are served over WebSocket (graphql-transport-ws, "
                    "graphql-ws) or Server-Sent Events (Accept: text/event-stream)",
                    code="BAD_REQUEST",
                ) from None
            raise RequestRejected(
                405, f"{error.operation_type.value} operations are not allowed over GET; use POST",
                code="METHOD_NOT_ALLOWED", headers={"Allow": "POST"},
            ) from None
        except CannotGetOperationTypeError as error:
            return error_body(error.as_http_error_reason(), "OPERATION_RESOLUTION_FAILURE"), {}
        except MissingQueryError:
            raise RequestRejected(400, "the request has no 'query'") from None
        if result.errors:  # error masking: a last pass over errors of every phase
            result.errors = finalize_errors(
                result.errors, context.request_id, hide_schema=not self.settings.introspection
            )
        body = self.response_body(result)
        if not any(code in _NOT_CACHEABLE_CODES for code in _codes(body)):
            self.persisted.remember(document, params.extensions)
        return body, dict(sub_response.headers)

    def response_body(self, result: ExecutionResult) -> dict[str, Any]:
        """The GraphQL response; ``data`` is left out when the operation never ran (a request
        error: parse, validation or variable coercion)."""
        body: dict[str, Any] = dict(process_result(result))
        if result.data is None and _request_error(result.errors):
            body.pop("data", None)
        return body

    def json_response(
        self, body: Any, status: int, media_type: str, headers: dict[str, str] | None = None
    ) -> Response:
        response = Response(self.encode_json(body), status_code=status, headers=headers)
        response.headers["content-type"] = f"{media_type}; charset=utf-8"
        response.headers["vary"] = "Accept"
        return response

    def observe(
        self, params: GraphQLParams | None, body: dict[str, Any], status: int, seconds: float
    ) -> None:
        codes = _codes(body)
        outcome = "ok" if not codes else ("error" if "data" in body else "rejected")
        stats = current_request.get()
        operation = None  # only a name the executed document defines (see schema/tracing.py)
        if stats is not None:
            stats.outcome = outcome
            operation = stats.operation
        if self.metrics is not None:
            self.metrics.observe_operation(operation, outcome, seconds, codes)


def wants_event_stream(accept: str | None) -> bool:
    return any(
        part.split(";", 1)[0].strip().lower() == "text/event-stream"
        for part in (accept or "").split(",")
    )


def _gateway_error_body(error: GatewayError) -> dict[str, Any]:
    """A request refused before execution, with the error's message and extensions."""
    return {"errors": [{"message": error.message, "extensions": error.extensions}]}


def _request_error(errors: list[GraphQLError] | None) -> bool:
    return bool(errors) and all(error.path is None for error in errors or ())


def _codes(body: dict[str, Any]) -> list[str]:
    return [
        str((error.get("extensions") or {}).get("code", "INTERNAL_SERVER_ERROR"))
        for error in body.get("errors") or ()
    ]
