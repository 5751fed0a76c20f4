"""The GraphQL endpoint: Strawberry's ASGI view with the gateway's per-request context, serving
HTTP by the GraphQL-over-HTTP rules of :mod:`gateway.http.protocol`, persisted queries
(:mod:`gateway.http.persisted`) and metrics. Browsers get GraphiQL (``render_graphql_ide``)."""

from __future__ import annotations

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

from gateway.context import ContextFactory, GatewayContext
from gateway.encoding import json_bytes
from gateway.errors import GatewayError, RateLimited, Timeout, graphql_error_body
from gateway.http.graphiql import GraphiQLPage
from gateway.http.persisted import PersistedQueries
from gateway.http.protocol import (
    ALLOWED_METHODS,
    APPLICATION_JSON,
    SUPPORTED_MEDIA_TYPES,
    Batch,
    GraphQLParams,
    RequestRejected,
    check_content_type,
    check_number_literals,
    decode_body,
    decode_query_string,
    negotiate,
    response_status,
    wants_html,
)
from gateway.http.shared_subscriptions import SharedSubscriptions
from gateway.http.websocket import LegacyWSHandler, TextWebSocketAdapter, TransportWSHandler
from gateway.mongo.bulkhead import bounded_by, request_deadline
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.requests import current_request
from gateway.settings import Settings
from schema.compiled.runner import CompiledOperations
from schema.extensions.errors import finalize_errors

GET_OPERATIONS = frozenset({OperationType.QUERY})
POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
"""Subscriptions are served over WebSocket and Server-Sent Events, not plain POST."""
_NOT_CACHEABLE_CODES = frozenset({"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"})
NO_STORE = "no-store"
"""Cache-Control of every error answer: a CDN or browser must never keep a miss or a refusal."""


class GatewayGraphQL(GraphQL[GatewayContext, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = TextWebSocketAdapter

    def __init__(
        self,
        schema: Any,
        *,
        settings: Settings,
        contexts: ContextFactory,
        persisted: PersistedQueries | None = None,
        metrics: GatewayMetrics | None = None,
        compiled: CompiledOperations | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            keep_alive=True,
            keep_alive_interval=settings.ws_keep_alive_seconds,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout),
        )
        # Subscriptions are limited (with a code) by the live hub; this bounds every operation
        # in flight on one socket, queries included.
        self.max_subscriptions_per_connection = 2 * settings.max_subscriptions_per_connection
        self.settings = settings
        self.contexts = contexts
        self.persisted = persisted or PersistedQueries(settings.persisted_queries_cache_size)
        self.metrics = metrics
        self.compiled = compiled
        self.graphiql = GraphiQLPage(settings) if settings.graphiql else None
        self.shared = SharedSubscriptions(schema, contexts.live) if contexts.live is not None else None

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        assert self.graphiql is not None  # Strawberry calls this only when the IDE is on
        return HTMLResponse(self.graphiql.html)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> GatewayContext:
        return await self.contexts.for_request(request, response)

    async def authenticate_connection(self, context: GatewayContext, payload: Any) -> None:
        """A live connection's caller: the ``connection_init`` payload's ``Authorization``, else
        the upgrade request's header; raises the refusal (GatewayError)."""
        authorization = None
        if isinstance(payload, dict):
            authorization = payload.get("Authorization", payload.get("authorization"))
        if not isinstance(authorization, str):
            authorization = context.request.headers.get("authorization")
        context.principal = self.contexts.principal_for(authorization)
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

    async def serve_event_stream(self, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
        """GraphQL over Server-Sent Events (distinct connections), by Strawberry's transport,
        once the token is accepted (401 otherwise)."""
        try:
            self.contexts.principal_for(request.headers.get("authorization"))
        except GatewayError as refusal:
            response = self.json_response(
                graphql_error_body(refusal.message, refusal.extensions),
                401,
                APPLICATION_JSON,
                {"WWW-Authenticate": 'Bearer realm="jobs-gateway"'},
            )
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    # GraphQL over HTTP ------------------------------------------------------------------

    def is_graphql_ide_request(self, request: Request) -> bool:
        """A browser opening the endpoint: GET, no GraphQL parameters, HTML accepted."""
        if request.method != "GET":
            return False
        params = request.query_params
        if "query" in params or "extensions" in params:
            return False
        return wants_html(request.headers.get("accept"))

    async def handle_http(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            return self.json_response(
                graphql_error_body(
                    f"{request.method} is not supported; use GET or POST", {"code": "METHOD_NOT_ALLOWED"}
                ),
                405,
                APPLICATION_JSON,
                {"Allow": ALLOWED_METHODS},
            )
        if self.is_graphql_ide_request(request):
            if self.graphql_ide:
                return await self.render_graphql_ide(request)
            return self.json_response(
                graphql_error_body("GraphiQL is disabled", {"code": "BAD_REQUEST"}), 404, APPLICATION_JSON
            )
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            return self.json_response(
                graphql_error_body(
                    "the Accept header admits neither application/graphql-response+json nor application/json",
                    {"code": "NOT_ACCEPTABLE"},
                ),
                406,
                APPLICATION_JSON,
            )
        started = time.perf_counter()
        params: GraphQLParams | Batch | None = None
        deadline = request.state.deadline = request_deadline(self.settings.request_timeout_seconds)
        try:
            async with bounded_by(deadline):
                params = await self.read_params(request)
                if isinstance(params, Batch):
                    answers, headers = await self.execute_batch(request, params, media_type)
                    return self.json_response(answers, 200, media_type, headers)
                body, headers = await self.execute_params(request, params)
            status = response_status(body, media_type)
        except RequestRejected as rejected:
            body, headers = graphql_error_body(rejected.message, {"code": rejected.code}), rejected.headers
            status = rejected.status
        except Timeout as timeout:  # nothing of the operation is sent: it did not finish
            body, headers = graphql_error_body(timeout.message, timeout.extensions), {}
            status = response_status(body, media_type)
        self.observe(
            params if isinstance(params, GraphQLParams) else None, body, status, time.perf_counter() - started
        )
        if request.method == "GET" and status == 200 and not body.get("errors"):
            if self.settings.get_cache_control:
                headers = {**headers, "Cache-Control": self.settings.get_cache_control}
        return self.json_response(body, status, media_type, headers)

    async def read_params(self, request: Request) -> GraphQLParams | Batch:
        if request.method == "GET":
            query_params = request.query_params
            return decode_query_string({name: query_params.getlist(name) for name in query_params.keys()})
        check_content_type(request.headers.get("content-type"))
        return decode_body(await request.body(), max_batch_size=self.settings.max_batch_size)

    async def execute_batch(
        self, request: Request, batch: Batch, media_type: str
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Run a batch's operations one after the other, each through the normal path with its
        own errors and metrics; they share the request's running totals (``spend``), so the
        cost limits hold for each operation and for the batch as a whole."""
        answers: list[dict[str, Any]] = []
        headers: dict[str, str] = {}
        spent: dict[str, int] = {}
        stats = current_request.get()
        for operation in batch.operations:
            started = time.perf_counter()
            if stats is not None:
                stats.operation = None  # set again by the operation that runs
            try:
                if isinstance(operation, RequestRejected):
                    raise operation
                body, set_headers = await self.execute_params(request, operation, spent=spent)
                headers.update(set_headers)
                status = response_status(body, media_type)
            except RequestRejected as rejected:
                body, status = graphql_error_body(rejected.message, {"code": rejected.code}), rejected.status
            self.observe(
                operation if isinstance(operation, GraphQLParams) else None,
                body,
                status,
                time.perf_counter() - started,
            )
            answers.append(body)
        if stats is not None:
            outcomes = {"ok" if not _codes(body) else "error" for body in answers}
            stats.outcome = "error" if "error" in outcomes else "ok"
        return answers, headers

    async def execute_params(
        self, request: Request, params: GraphQLParams, *, spent: dict[str, int] | None = None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Run one operation; the body to send and headers set by resolvers. ``spent``: the
        running totals to add to (shared by the operations of a batch)."""
        try:
            document = self.persisted.resolve(params.query, params.extensions)
        except GatewayError as error:
            return graphql_error_body(error.message, error.extensions), {}
        check_number_literals(document)
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        if spent is not None:
            context.spent = spent
        if context.auth_error is not None:
            refusal = context.auth_error
            return graphql_error_body(refusal.message, refusal.extensions), {
                "WWW-Authenticate": 'Bearer realm="jobs-gateway"'
            }
        if self.compiled is not None and document is not None:
            answer, ran = await self.compiled.execute(
                document, params.operation_name, params.variables, context, params.extensions
            )
            if answer is not None:
                self.persisted.remember(document, params.extensions)
                return answer, dict(sub_response.headers)
            if ran:  # the plan gave way: standard execution starts afresh
                sub_response = await self.get_sub_response(request)
                context = await self.get_context(request, sub_response)
                if spent is not None:
                    context.spent = spent
        try:
            result = await self.schema.execute(
                document,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=(GET_OPERATIONS if request.method == "GET" else POST_OPERATIONS),
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise RequestRejected(
                    400,
                    "subscriptions are served over WebSocket (graphql-transport-ws, "
                    "graphql-ws) or Server-Sent Events (Accept: text/event-stream)",
                    code="BAD_REQUEST",
                ) from None
            raise RequestRejected(
                405,
                f"{error.operation_type.value} operations are not allowed over GET; use POST",
                code="METHOD_NOT_ALLOWED",
                headers={"Allow": "POST"},
            ) from None
        except CannotGetOperationTypeError as error:
            reason = error.as_http_error_reason()
            return graphql_error_body(reason, {"code": "OPERATION_RESOLUTION_FAILURE"}), {}
        except MissingQueryError:
            raise RequestRejected(400, "the request has no 'query'") from None
        headers = dict(sub_response.headers)
        if retry_after := _retry_after(result.errors):
            headers["Retry-After"] = str(retry_after)
        if result.errors:  # error masking: a last pass over errors of every phase
            result.errors = finalize_errors(
                result.errors, context.request_id, hide_schema=not self.settings.introspection
            )
        body = self.response_body(result)
        if not any(code in _NOT_CACHEABLE_CODES for code in _codes(body)):
            self.persisted.remember(document, params.extensions)
        if self.compiled is not None and document is not None and not _request_error(result.errors):
            self.compiled.learn(document, params.operation_name)
        return body, headers

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
        merged = {name.lower(): value for name, value in (headers or {}).items()}
        merged["content-type"] = f"{media_type}; charset=utf-8"
        merged["vary"] = "Accept"
        if status >= 400 or _has_errors(body):
            merged["cache-control"] = NO_STORE
        return Response(self.encode_json(body), status_code=status, headers=merged)

    def observe(self, params: GraphQLParams | None, body: dict[str, Any], status: int, seconds: float) -> None:
        codes = _codes(body)
        outcome = "ok" if not codes else ("error" if "data" in body else "rejected")
        stats = current_request.get()
        operation = None  # only a name the executed document defines (see schema/tracing.py)
        if stats is not None:
            stats.outcome = outcome
            operation = stats.operation
        if self.metrics is not None:
            self.metrics.observe_operation(operation, outcome, seconds, codes)


def _retry_after(errors: list[GraphQLError] | None) -> int | None:
    """The longest ``Retry-After`` of the RATE_LIMITED errors that name one, if any."""
    waits = [
        error.original_error.retry_after
        for error in errors or ()
        if isinstance(error.original_error, RateLimited) and error.original_error.retry_after
    ]
    return max(waits) if waits else None


def _has_errors(body: Any) -> bool:
    """Whether an answer (one body, or the bodies of a batch) holds an error."""
    bodies = body if isinstance(body, list) else [body]
    return any(isinstance(item, dict) and item.get("errors") for item in bodies)


def wants_event_stream(accept: str | None) -> bool:
    """GraphQL over SSE when the client asks for ``text/event-stream`` and names no JSON type:
    clients such as urql list every type they read, JSON first, and get JSON."""
    media = {part.split(";", 1)[0].strip().lower() for part in (accept or "").split(",")}
    return "text/event-stream" in media and media.isdisjoint(SUPPORTED_MEDIA_TYPES)


def _request_error(errors: list[GraphQLError] | None) -> bool:
    return bool(errors) and all(error.path is None for error in errors or ())


def _codes(body: dict[str, Any]) -> list[str]:
    return [
        str((error.get("extensions") or {}).get("code", "INTERNAL_SERVER_ERROR"))
        for error in body.get("errors") or ()
    ]
