"""The GraphQL-over-HTTP rules (graphql.org working draft) that sit before and after execution:
content negotiation, request decoding and checking, and the status code of a response.

A request that is not a well-formed GraphQL-over-HTTP request raises :class:`RequestRejected`
with the status to answer; everything else becomes :class:`GraphQLParams`, or a :class:`Batch`
when batches are allowed (``GATEWAY_MAX_BATCH_SIZE``) and the body is a JSON array.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from graphql.language import Lexer, Source, TokenKind

from gateway.decoding import MAX_NUMBER_DIGITS, JSONInputError, loads_request_json

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
SUPPORTED_MEDIA_TYPES = (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON)
ALLOWED_METHODS = "GET, POST"

# Codes of errors that mean "the request was not executed" (no ``data`` in the response).
REQUEST_ERROR_STATUS: Mapping[str, int] = {
    "BAD_REQUEST": 400,
    "GRAPHQL_PARSE_FAILED": 400,
    "GRAPHQL_VALIDATION_FAILED": 400,
    "BAD_USER_INPUT": 400,
    "OPERATION_RESOLUTION_FAILURE": 400,
    "QUERY_TOO_COMPLEX": 400,
    "COST_ESTIMATED_TOO_EXPENSIVE": 400,
    "PERSISTED_QUERY_NOT_FOUND": 404,
    "OPERATION_NOT_ALLOWED": 403,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "TIMEOUT": 504,  # the request's deadline passed (GATEWAY_REQUEST_TIMEOUT_SECONDS)
}


@dataclass(slots=True)
class RequestRejected(Exception):
    """A request answered before execution, with ``status`` and a GraphQL error ``code``."""

    status: int
    message: str
    code: str = "BAD_REQUEST"
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    """The parameters of one GraphQL-over-HTTP request (``query`` may be None under APQ)."""

    query: str | None
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """A JSON array of operations, in order; a malformed entry is kept as its refusal (it is
    answered in its place, the others run)."""

    operations: tuple[GraphQLParams | RequestRejected, ...]


# negotiation ----------------------------------------------------------------------------


def _media_ranges(accept: str) -> list[tuple[str, float, int]]:
    """``Accept`` → (media range, q, position), q=0 ranges included (they refuse a type)."""
    ranges: list[tuple[str, float, int]] = []
    for position, item in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality, position))
    return ranges


def _specificity(media_range: str, media_type: str) -> int | None:
    """How specifically ``media_range`` names ``media_type`` (2 exact, 1 type/*, 0 */*)."""
    if media_range == media_type:
        return 2
    if media_range == "*/*":
        return 0
    kind, _, subtype = media_range.partition("/")
    return 1 if subtype == "*" and media_type.startswith(kind + "/") else None


def negotiate(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header; None when nothing supported is accepted.

    No header, or a wildcard, gives ``application/graphql-response+json`` (the draft's choice
    since its 2025 watershed). Each supported type takes the q of the most specific range that
    names it (RFC 9110 §12.5.1, so ``type;q=0`` refuses it even beside ``*/*``); the highest q
    wins, then an exact mention, then the one listed first.
    """
    if not accept or not accept.strip():
        return GRAPHQL_RESPONSE_JSON
    ranges = _media_ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for preference, media_type in enumerate(SUPPORTED_MEDIA_TYPES):
        named = [
            (specificity, quality, position)
            for media_range, quality, position in ranges
            if (specificity := _specificity(media_range, media_type)) is not None
        ]
        if not named:
            continue
        specificity, quality, position = max(named, key=lambda item: (item[0], -item[2]))
        rank = (quality, 1 if specificity == 2 else 0, -position * 10 - preference)
        if quality > 0 and (best is None or rank > best):
            best, chosen = rank, media_type
    return chosen


def wants_html(accept: str | None) -> bool:
    return any(media == "text/html" and q > 0 for media, q, _ in _media_ranges(accept or ""))


# request decoding -------------------------------------------------------------------------


def check_content_type(content_type: str | None) -> None:
    """Only ``application/json`` bodies, in UTF-8 (the default when no charset is given)."""
    if not content_type:
        raise RequestRejected(415, "a POST needs Content-Type: application/json")
    media, *params = (part.strip() for part in content_type.split(";"))
    if media.lower() != APPLICATION_JSON:
        raise RequestRejected(
            415,
            f"unsupported Content-Type {media!r}; send application/json",
            headers={"Accept-Post": APPLICATION_JSON},
        )
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise RequestRejected(415, f"unsupported charset {value.strip()!r}; send utf-8")


def decode_body(body: bytes, *, max_batch_size: int = 0) -> GraphQLParams | Batch:
    """A POST body → parameters; refuses what is not a JSON object of the right shape (or,
    when ``max_batch_size`` allows it, an array of at most that many operations)."""
    if not body:
        raise RequestRejected(400, "the request body is empty; send a JSON object with a query")
    try:
        data = loads_request_json(body, "the request body")
    except JSONInputError as error:
        raise RequestRejected(400, error.message) from None
    if isinstance(data, list):
        return decode_batch(data, max_batch_size)
    if not isinstance(data, dict):
        raise RequestRejected(400, "the request body must be a JSON object")
    return _params(data)


def decode_batch(data: list[Any], max_size: int) -> Batch:
    """A JSON array of operations; refused whole when batches are off, empty or too long."""
    if max_size == 0:
        raise RequestRejected(400, "batched requests are not supported; send one JSON object")
    if not data:
        raise RequestRejected(400, "the batch is empty; send at least one operation")
    if len(data) > max_size:
        raise RequestRejected(
            400,
            f"the batch has {len(data)} operations, more than the limit of {max_size} (GATEWAY_MAX_BATCH_SIZE)",
            code="QUERY_TOO_COMPLEX",
        )
    return Batch(tuple(_batch_entry(item) for item in data))


def _batch_entry(item: Any) -> GraphQLParams | RequestRejected:
    if not isinstance(item, dict):
        return RequestRejected(400, "each operation of a batch must be a JSON object")
    try:
        return _params(item)
    except RequestRejected as rejected:
        return rejected


def decode_query_string(params: Mapping[str, Sequence[str]]) -> GraphQLParams:
    """GET parameters (name → every value given) → parameters; ``variables`` and ``extensions``
    are JSON text; a parameter given twice is refused."""
    for name in ("query", "operationName", "variables", "extensions"):
        if len(params.get(name, ())) > 1:
            raise RequestRejected(400, f"the parameter {name!r} is given more than once")
    first = {name: values[0] for name, values in params.items() if values}
    data: dict[str, Any] = {
        "query": first.get("query"),
        "operationName": first.get("operationName") or None,
    }
    for name in ("variables", "extensions"):
        text = first.get(name)
        if text:
            try:
                data[name] = loads_request_json(text, f"the {name!r} parameter")
            except JSONInputError as error:
                raise RequestRejected(400, error.message) from None
    return _params(data)


def _params(data: Mapping[str, Any]) -> GraphQLParams:
    query, name = data.get("query"), data.get("operationName")
    variables, extensions = data.get("variables"), data.get("extensions")
    if query is not None and not isinstance(query, str):
        raise RequestRejected(400, "'query' must be a string")
    if name is not None and not isinstance(name, str):
        raise RequestRejected(400, "'operationName' must be a string or null")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRejected(400, "'variables' must be an object or null")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestRejected(400, "'extensions' must be an object or null")
    if query is None and not (extensions and "persistedQuery" in extensions):
        raise RequestRejected(400, "the request has no 'query'")
    return GraphQLParams(query, name or None, variables, extensions)


_LONG_DIGIT_RUN = re.compile(r"\d{%d}" % (MAX_NUMBER_DIGITS + 1))


def check_number_literals(document: str | None) -> None:
    """Refuse a document with a number literal longer than JSON input may hold (Python cannot
    read it, and graphql-core would echo Python's advice); the lexer runs only when a long run
    of digits is there at all, which may also be inside a string."""
    if document is None or _LONG_DIGIT_RUN.search(document) is None:
        return
    lexer = Lexer(Source(document))
    try:
        token = lexer.advance()
        while token.kind is not TokenKind.EOF:
            if token.kind in (TokenKind.INT, TokenKind.FLOAT) and len(token.value or "") > MAX_NUMBER_DIGITS:
                raise RequestRejected(
                    400,
                    f"Syntax Error: a number literal of {len(token.value or '')} characters at "
                    f"line {token.line}, column {token.column}; numbers may have at most "
                    f"{MAX_NUMBER_DIGITS} digits",
                    code="GRAPHQL_PARSE_FAILED",
                )
            token = lexer.advance()
    except GraphQLError:
        return  # a syntax error: the parser reports it


# response ---------------------------------------------------------------------------------


def response_status(body: Mapping[str, Any], media_type: str) -> int:
    """200 whenever ``data`` is present (even null) or under ``application/json``; otherwise the
    status of the first error's code (400 when it has none) under graphql-response+json."""
    if media_type == APPLICATION_JSON or "data" in body:
        return 200
    errors = body.get("errors") or [{}]
    code = (errors[0].get("extensions") or {}).get("code")
    if not isinstance(code, str):
        return 400
    return REQUEST_ERROR_STATUS.get(code, 500)
