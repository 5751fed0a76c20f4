"""The gateway's exception tree. Only these errors reach clients with their message.

    GatewayError                      code                 spaceone code (when SpaceONE has one)
    ├── BadUserInput                  BAD_USER_INPUT       (set per instance)
    │   ├── RequiredParameter         BAD_USER_INPUT       ERROR_REQUIRED_PARAMETER
    │   ├── InvalidParameter          BAD_USER_INPUT       ERROR_INVALID_PARAMETER
    │   └── QueryError                BAD_USER_INPUT       ERROR_DB_QUERY and the operator codes
    ├── QueryTooComplex               QUERY_TOO_COMPLEX
    ├── Unauthenticated               UNAUTHENTICATED      ERROR_AUTHENTICATE_FAILURE
    ├── Forbidden                     FORBIDDEN            ERROR_PERMISSION_DENIED
    ├── NotFound                      NOT_FOUND
    ├── RateLimited                   RATE_LIMITED
    ├── ResyncRequired                RESYNC_REQUIRED
    ├── SlowConsumer                  SLOW_CONSUMER
    ├── Timeout                       TIMEOUT
    ├── RateLimited                   RATE_LIMITED
    └── ServiceUnavailable            SERVICE_UNAVAILABLE

Anything else raised while serving a request is a bug: it is logged with its traceback and the
client sees ``INTERNAL_SERVER_ERROR`` only. Error bodies are built by one function per wire format:
:func:`graphql_error_body` and :func:`spaceone_error_body`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar


def shorten(text: str, limit: int = 80) -> str:
    """Client text echoed in an error message, cut to a readable length."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def suggestion(
    name: str, choices: Sequence[str], kind: str, *, listed: Sequence[str] | None = None, prefix: str = ""
) -> str:
    """The tail of an "unknown name" message: ``; did you mean '<prefix>x'?`` for the choice
    closest to ``name``, or, when none is close, ``; valid <kind>: `` and the ``listed`` choices
    (all of them by default)."""
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        return f"; did you mean '{prefix}{close[0]}'?"
    return f"; valid {kind}: {', '.join(choices if listed is None else listed)}"


def json_mistake(error: json.JSONDecodeError) -> str:
    """Where JSON text breaks: ``Expecting ',' delimiter at line 3, column 14 (char 41)``."""
    return f"{error.msg} at line {error.lineno}, column {error.colno} (char {error.pos})"


_SNAKE_HUMP = re.compile(r"_([a-z0-9])")


def camel_case(name: str) -> str:
    """``keys[0].date_format`` → ``keys[0].dateFormat``: a SpaceONE name as GraphQL spells it."""
    return _SNAKE_HUMP.sub(lambda match: match.group(1).upper(), name)


class GatewayError(Exception):
    """Base of every error whose message may be shown to a client."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    default_spaceone_code: ClassVar[str | None] = None
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, spaceone_code: str | None = None, parameter: str | None = None) -> None:
        """``message`` names parameters as SpaceONE does (snake_case). When it names one that
        GraphQL spells differently, ``parameter`` is that name as it appears in ``message``
        (before any client text): :attr:`message`, GraphQL's, spells it in camelCase, and
        :attr:`spaceone_message`, the REST routes', keeps it."""
        self.spaceone_message = message
        if parameter:
            message = message.replace(parameter, camel_case(parameter), 1)
        super().__init__(message)
        self.message = message
        self.spaceone_code = spaceone_code or self.default_spaceone_code

    @property
    def extensions(self) -> dict[str, Any]:
        """GraphQL ``extensions`` of this error (graphql-core copies them onto the error)."""
        extensions: dict[str, Any] = {"code": self.code}
        if self.spaceone_code:
            extensions["spaceoneCode"] = self.spaceone_code
        return extensions


def graphql_error_body(message: str, extensions: Mapping[str, Any]) -> dict[str, Any]:
    """A GraphQL response holding one error and no ``data``: ``{"errors": [{message, extensions}]}``."""
    return {"errors": [{"message": message, "extensions": dict(extensions)}]}


def spaceone_error_body(code: str, message: str) -> dict[str, Any]:
    """SpaceONE's error JSON: ``{"error": {"code": "ERROR_…", "message": …}}``."""
    return {"error": {"code": code, "message": message}}


class BadUserInput(GatewayError):
    code = "BAD_USER_INPUT"
    http_status = 400


class RequiredParameter(BadUserInput):
    default_spaceone_code = "ERROR_REQUIRED_PARAMETER"


class InvalidParameter(BadUserInput):
    default_spaceone_code = "ERROR_INVALID_PARAMETER"


class QueryError(BadUserInput):
    """A search or statistics query that cannot be compiled; the code names the mistake."""

    default_spaceone_code = "ERROR_DB_QUERY"


class QueryTooComplex(GatewayError):
    code = "QUERY_TOO_COMPLEX"
    http_status = 400


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"
    default_spaceone_code = "ERROR_AUTHENTICATE_FAILURE"
    http_status = 401


class Forbidden(GatewayError):
    code = "FORBIDDEN"
    default_spaceone_code = "ERROR_PERMISSION_DENIED"
    http_status = 403


class NotFound(GatewayError):
    code = "NOT_FOUND"
    http_status = 404


class ResyncRequired(GatewayError):
    """A live-update cursor can no longer be resumed from: query again, then subscribe."""

    code = "RESYNC_REQUIRED"
    http_status = 409


class SlowConsumer(GatewayError):
    """A subscriber fell further behind than its buffer holds; its stream ends."""

    code = "SLOW_CONSUMER"
    http_status = 503


class Timeout(GatewayError):
    code = "TIMEOUT"
    http_status = 504


class RateLimited(GatewayError):
    """Refused for now: a tenant's bulkhead is full (``retry_after`` seconds is when trying again
    makes sense: HTTP ``Retry-After``, GraphQL ``extensions.retryAfter``), or a limit on
    subscriptions per connection or per process is reached (no ``retry_after``)."""

    code = "RATE_LIMITED"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def extensions(self) -> dict[str, Any]:
        if self.retry_after is None:
            return super().extensions
        return {**super().extensions, "retryAfter": self.retry_after}


class ServiceUnavailable(GatewayError):
    code = "SERVICE_UNAVAILABLE"
    http_status = 503
