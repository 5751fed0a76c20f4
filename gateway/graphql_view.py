"""The GraphQL endpoint: Strawberry's ASGI view with the gateway's per-request context."""

from __future__ import annotations

import re
import uuid
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.auth import ANONYMOUS, Authenticator
from gateway.context import GatewayContext
from gateway.errors import GatewayError
from gateway.settings import Settings
from schema.errors import finalize_errors

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id_of(request: Request | WebSocket) -> str:
    """The client's ``X-Request-Id`` when it is a plain short token, else a fresh one."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


class GatewayGraphQL(GraphQL[GatewayContext, None]):
    def __init__(
        self,
        schema: Any,
        *,
        settings: Settings,
        database: Any,
        authenticator: Authenticator | None = None,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings
        self.database = database
        self.authenticator = authenticator or Authenticator()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> GatewayContext:
        # Authentication ----------------------------------------------------------------------
        # A refused token does not fail here (the GraphiQL page needs no token): it is kept on
        # the context and the whole operation is refused before execution (execute_operation).
        principal, refusal = ANONYMOUS, None
        try:
            principal = self.authenticator.principal_for(request.headers.get("authorization"))
        except GatewayError as error:
            refusal = error
        request_id = request_id_of(request)
        request.state.request_id = request_id
        return GatewayContext(
            settings=self.settings,
            database=self.database,
            principal=principal,
            request=request,
            response=response,
            request_id=request_id,
            auth_error=refusal,
        )

    async def execute_operation(
        self, request: Request, request_adapter: Any, request_data: Any, context: GatewayContext,
        root_value: Any, sub_response: Response,
    ) -> Any:
        if context.auth_error is not None:
            sub_response.status_code = context.auth_error.http_status
            sub_response.headers["WWW-Authenticate"] = 'Bearer realm="jobs-gateway"'
            refused = refusal_result(context.auth_error)
            return [refused] * len(request_data) if isinstance(request_data, list) else refused
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except RecursionError:
            raise HTTPException(400, "The request body is nested too deeply") from None

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Error masking: a last pass over every error, whichever phase produced it.
        if result.errors:
            result.errors = finalize_errors(
                result.errors,
                getattr(request.state, "request_id", None),
                hide_schema=not self.settings.introspection,
            )
        return await super().process_result(request, result)


def refusal_result(error: GatewayError) -> ExecutionResult:
    return ExecutionResult(
        data=None, errors=[GraphQLError(error.message, extensions=error.extensions)]
    )
