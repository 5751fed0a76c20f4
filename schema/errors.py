"""Give every error an ``extensions.code``; mask anything that is not the gateway's own.

Parse errors → GRAPHQL_PARSE_FAILED, validation errors → GRAPHQL_VALIDATION_FAILED, errors in
variables → BAD_USER_INPUT, ``GatewayError`` → its own code (graphql-core copies its extensions),
anything else → logged with its traceback and sent as INTERNAL_SERVER_ERROR with the request id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from gateway.errors import GatewayError

log = logging.getLogger("gateway.errors")

INTERNAL_MESSAGE = "Internal server error"


def _tag(errors: list[GraphQLError] | None, code: str) -> None:
    for error in errors or ():
        if "code" not in (error.extensions or {}):
            error.extensions = {**(error.extensions or {}), "code": code}


def tag_parse_errors(errors: list[GraphQLError] | None) -> None:
    _tag([error for error in errors or () if isinstance(error, GraphQLSyntaxError)],
         "GRAPHQL_PARSE_FAILED")


def classify(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GatewayError):
        error.extensions = {**(error.extensions or {}), **original.extensions}
        return error
    if error.path is None:  # raised while coercing variables, before any resolver ran
        _tag([error], "BAD_USER_INPUT")
        return error
    log.error(
        "unexpected error while resolving %s (request %s)",
        ".".join(str(p) for p in error.path or ()),
        request_id,
        exc_info=(type(original), original, original.__traceback__) if original else None,
    )
    extensions = {"code": "INTERNAL_SERVER_ERROR"}
    if request_id:
        extensions["requestId"] = request_id
    return GraphQLError(
        INTERNAL_MESSAGE, error.nodes, path=error.path, extensions=extensions
    )


class ErrorCodes(SchemaExtension):
    """Tags each error with its code and masks unexpected ones (see the module docstring)."""

    def on_validate(self) -> Iterator[None]:
        yield
        _tag(self.execution_context.pre_execution_errors, "GRAPHQL_VALIDATION_FAILED")

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None) if result is not None else None
        if not errors:
            return
        request_id = getattr(self.execution_context.context, "request_id", None)
        result.errors = [classify(error, request_id) for error in errors]  # type: ignore[union-attr]
