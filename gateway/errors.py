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
    └── ServiceUnavailable            SERVICE_UNAVAILABLE

Anything else raised while serving a request is a bug: it is logged with its traceback and the
client sees ``INTERNAL_SERVER_ERROR`` only.
"""

from __future__ import annotations

from typing import Any, ClassVar


def shorten(text: str, limit: int = 80) -> str:
    """Client text echoed in an error message, cut to a readable length."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class GatewayError(Exception):
    """Base of every error whose message may be shown to a client."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    default_spaceone_code: ClassVar[str | None] = None
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, spaceone_code: str | None = None) -> None:
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


class RateLimited(GatewayError):
    """A limit on concurrent use (subscriptions per connection or per process) is reached."""

    code = "RATE_LIMITED"
    http_status = 429


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


class ServiceUnavailable(GatewayError):
    code = "SERVICE_UNAVAILABLE"
    http_status = 503
