"""One HTTP request straight into an ASGI app: no socket and no client library in the timing."""

from __future__ import annotations

from typing import Any

ASGIApp = Any


async def request(
    app: ASGIApp, method: str, target: str, body: bytes = b"", content_type: str | None = None
) -> tuple[int, bytes]:
    """``(status, body)`` of ``method target`` answered by ``app``."""
    path, _, query = target.partition("?")
    headers = [(b"host", b"bench"), (b"accept", b"application/json")]
    if content_type:
        headers += [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)
