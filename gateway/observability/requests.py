"""One request's observations (id, operation, outcome, MongoDB commands) and the ASGI middleware
that times every request, returns its id in ``X-Request-ID`` and logs one JSON line for it.

The log line never holds a token, a query text or a variable value: only the request id,
method, route, status, duration, operation name, outcome and MongoDB command count.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Collection
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("gateway.request")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_from(header: str | None) -> str:
    """The client's id when it is 1-128 characters of ``A-Z a-z 0-9 . _ : -``; a new one otherwise."""
    if header and _VALID_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


@dataclass(slots=True)
class RequestStats:
    """Filled in while a request is served; read by the log line and the metrics."""

    request_id: str
    operation: str | None = None
    outcome: str | None = None
    mongo_commands: int = 0


current_request: ContextVar[RequestStats | None] = ContextVar("current_request", default=None)


def count_mongo_command() -> None:
    """Called by the driver's command listener, in the request's context (PyMongo's async client calls
    it in the request's task; Motor copies the context into its threads)."""
    stats = current_request.get()
    if stats is not None:
        stats.mongo_commands += 1


RequestObserverCallback = Callable[[str, str, int, float], None]


class RequestObserver:
    """Pure ASGI middleware: request id, timing, one log line, and an HTTP metrics callback."""

    def __init__(
        self,
        app: ASGIApp,
        on_response: RequestObserverCallback | None = None,
        quiet_paths: Collection[str] = ("/healthz", "/readyz", "/metrics"),
    ) -> None:
        self.app = app
        self.on_response = on_response
        self.quiet_paths = frozenset(quiet_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        raw_id = headers.get(b"x-request-id", b"").decode("latin-1")
        stats = RequestStats(request_id_from(raw_id))
        scope.setdefault("state", {})["request_id"] = stats.request_id
        token = current_request.set(stats)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = stats.request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request.reset(token)
            self._finish(scope, stats, status, time.perf_counter() - started)

    def _finish(self, scope: Scope, stats: RequestStats, status: int, seconds: float) -> None:
        path = scope.get("path", "")
        if self.on_response is not None:
            self.on_response(scope.get("method", ""), path, status, seconds)
        if path in self.quiet_paths:
            return
        log.info(
            "request",
            extra={
                "request_id": stats.request_id,
                "method": scope.get("method"),
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "operation": stats.operation,
                "outcome": stats.outcome or ("ok" if status < 400 else "error"),
                "mongo_commands": stats.mongo_commands,
            },
        )
