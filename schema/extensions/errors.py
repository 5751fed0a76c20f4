"""Give every error an ``extensions.code``; mask anything that is not the gateway's own.

Parse errors → GRAPHQL_PARSE_FAILED, validation errors → GRAPHQL_VALIDATION_FAILED, errors in
variables → BAD_USER_INPUT, ``GatewayError`` → its own code (graphql-core copies its extensions),
anything else → logged with its traceback and sent as INTERNAL_SERVER_ERROR with the request id.
"""

from __future__ import annotations

import logging
import re
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
    _tag([error for error in errors or () if isinstance(error, GraphQLSyntaxError)], "GRAPHQL_PARSE_FAILED")


def classify(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GatewayError):
        error.extensions = {**(error.extensions or {}), **original.extensions}
        return error
    if error.path is None:  # raised while coercing variables, before any resolver ran
        _tag([error], "BAD_USER_INPUT")
        return error
    where = "while resolving " + ".".join(str(p) for p in error.path)
    return _masked(error, request_id, where)


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


# The last pass (the HTTP view runs it on every response) ------------------------------------

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?", re.DOTALL)


def finalize_errors(
    errors: list[GraphQLError], request_id: str | None, *, hide_schema: bool
) -> list[GraphQLError]:
    """Every error leaves with a code; anything unexpected that escaped :class:`ErrorCodes`
    (an error raised outside a resolver) is masked here. With ``hide_schema`` (introspection
    off) the "Did you mean …?" suggestions that would reveal field and type names are removed."""
    final: list[GraphQLError] = []
    for error in errors:
        if isinstance(error, GraphQLSyntaxError):
            error = _parse_failure(error)
        elif "code" not in (error.extensions or {}):
            if isinstance(error.original_error, GatewayError) or error.original_error is None:
                error = classify(error, request_id) if error.original_error else error
                _tag([error], "BAD_USER_INPUT")
            else:
                error = _masked(error, request_id, "outside resolvers")
        if hide_schema and "Did you mean" in error.message:
            error = GraphQLError(
                _SUGGESTION.sub("", error.message),
                error.nodes,
                path=error.path,
                extensions=error.extensions,
            )
        final.append(error)
    return final


_TOO_LARGE = {
    "Document contains more than": "GATEWAY_MAX_QUERY_TOKENS",
    "Document is nested too deeply": "GATEWAY_MAX_INPUT_DEPTH",
}


def _parse_failure(error: GraphQLSyntaxError) -> GraphQLError:
    """Parse errors: GRAPHQL_PARSE_FAILED, or QUERY_TOO_COMPLEX for a document refused for size."""
    for start, setting in _TOO_LARGE.items():
        if start in error.message:
            return GraphQLError(
                f"{error.message} ({setting})",
                error.nodes,
                source=error.source,
                positions=error.positions,
                extensions={"code": "QUERY_TOO_COMPLEX"},
            )
    _tag([error], "GRAPHQL_PARSE_FAILED")
    return error


def _masked(error: GraphQLError, request_id: str | None, where: str) -> GraphQLError:
    """Log an unexpected error with its traceback; the client gets INTERNAL_SERVER_ERROR."""
    original = error.original_error
    log.error(
        "unexpected error %s (request %s)",
        where,
        request_id,
        exc_info=(type(original), original, original.__traceback__) if original else None,
    )
    extensions = {"code": "INTERNAL_SERVER_ERROR"}
    if request_id:
        extensions["requestId"] = request_id
    return GraphQLError(INTERNAL_MESSAGE, error.nodes, path=error.path, extensions=extensions)
