"""The seed's REST routes, SpaceONE JSON in and out:

    GET  /power-scheduler/v1/jobs          JobsQuery as query parameters → JobsInfo
    POST /power-scheduler/v1/jobs/search   JobsQuery as a JSON body      → JobsInfo
    POST /power-scheduler/v1/jobs/stat     JobStatQuery                  → {results, total_count}

They run through the same compiler, limits and domain scoping as GraphQL: the caller comes from
the GraphQL view's context, and every read from that context's repository. Errors are
``{"error": {"code": "ERROR_…", "message": …}}`` with the error's HTTP status.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from bson import ObjectId
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.context import GatewayContext, Scope
from gateway.decoding import JSONInputError, loads_request_json
from gateway.encoding import json_bytes
from gateway.errors import GatewayError, InvalidParameter, RateLimited
from gateway.mongo.bulkhead import bounded_by, request_deadline
from gateway.mongo.repository import ERROR_PARTS
from gateway.observability.requests import current_request
from gateway.settings import Settings
from gateway.spaceone.jobs_query import JobsRequest, parse_jobs_query
from gateway.spaceone.stat_query import StatRequest, parse_stat_query
from schema.types.scalars import serialize_datetime, to_json

log = logging.getLogger("gateway.spaceone.routes")

PREFIX = "/power-scheduler/v1"


class ContextSource(Protocol):
    settings: Settings

    async def get_context(self, request: Any, response: Any = None) -> GatewayContext: ...


def rest_routes(source: ContextSource) -> list[Route]:
    async def list_jobs(request: Request) -> Response:
        return await answer(request, source, _jobs, query_params_body(request))

    async def search_jobs(request: Request) -> Response:
        return await answer(request, source, _jobs, await json_body(request))

    async def stat_jobs(request: Request) -> Response:
        return await answer(request, source, _stat, await json_body(request))

    return [
        Route(f"{PREFIX}/jobs", list_jobs, methods=["GET"]),
        Route(f"{PREFIX}/jobs/search", search_jobs, methods=["POST"]),
        Route(f"{PREFIX}/jobs/stat", stat_jobs, methods=["POST"]),
    ]


class JSONAnswer(JSONResponse):
    """JSON encoded as for GraphQL responses (a non-finite float becomes null, not an error)."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


Handler = Callable[[GatewayContext, Any], Awaitable[dict[str, Any]]]


async def answer(request: Request, source: ContextSource, handler: Handler, body: Any) -> Response:
    context: GatewayContext | None = None
    stats = current_request.get()
    if stats is not None:
        stats.operation = f"rest {request.url.path.rsplit('/', 1)[-1]}"
    deadline = request.state.deadline = request_deadline(source.settings.request_timeout_seconds)
    try:
        async with bounded_by(deadline):
            context = await source.get_context(request)
            context.check_authenticated()
            return JSONAnswer(await handler(context, body))
    except GatewayError as error:
        if stats is not None:
            stats.outcome = error.code
        return error_response(error)
    except Exception:
        request_id = context.request_id if context else None
        log.exception("unexpected error on %s (request %s)", request.url.path, request_id)
        return JSONAnswer(
            {"error": {"code": "ERROR_UNKNOWN", "message": "Internal server error"}}, 500
        )


async def http_error(request: Request, error: Exception) -> Response:
    """Routing errors (405, 404) in the SpaceONE error JSON on the REST routes, Starlette's plain
    text elsewhere."""
    assert isinstance(error, HTTPException)
    if not request.url.path.startswith(PREFIX + "/"):
        return PlainTextResponse(error.detail, error.status_code, headers=error.headers)
    code = {404: "ERROR_NOT_FOUND", 405: "ERROR_METHOD_NOT_ALLOWED"}.get(
        error.status_code, "ERROR_INVALID_REQUEST"
    )
    return JSONAnswer(
        {"error": {"code": code, "message": error.detail}}, error.status_code, headers=error.headers
    )


def error_response(error: GatewayError) -> JSONResponse:
    code = error.spaceone_code or f"ERROR_{error.code}"
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
    return JSONAnswer({"error": {"code": code, "message": error.message}}, error.http_status, headers)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return loads_request_json(raw, "the request body", max_depth=MAX_JSON_DEPTH)
    except JSONInputError as error:
        return _Invalid(error.message)


MAX_JSON_DEPTH = 32


def query_params_body(request: Request) -> Any:
    """Query parameters → a ``JobsQuery`` object: flat names, ``query`` as JSON text, and
    ``query.page.limit``-style dotted names (as gRPC-gateway maps them)."""
    body: dict[str, Any] = {}
    params = request.query_params
    for name in params.keys():
        values = params.getlist(name)
        if name == "query":
            try:
                query = loads_request_json(values[-1], "the 'query' parameter", max_depth=MAX_JSON_DEPTH)
                body["query"] = {**body.get("query", {}), **query}
            except JSONInputError as error:
                return _Invalid(error.message)
            except TypeError:
                return _Invalid("the 'query' parameter is not a JSON object")
            continue
        path = name.split(".")
        target = body
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                return _Invalid(f"the parameter {name!r} conflicts with another one")
        target[path[-1]] = values if path[-1] == "only" else values[-1]
    return body


class _Invalid:
    def __init__(self, message: str) -> None:
        self.message = message


def _checked(body: Any) -> Any:
    if isinstance(body, _Invalid):
        raise InvalidParameter(body.message)
    return body


# handlers ---------------------------------------------------------------------------------


async def _jobs(context: GatewayContext, body: Any) -> dict[str, Any]:
    parsed: JobsRequest = parse_jobs_query(
        _checked(body),
        default_page_size=context.settings.default_page_size,
        max_page_size=context.settings.max_page_size,
    )
    scope = context.scope(parsed.domain_id)
    page = await scope.repository.search(parsed.spec, parsed.fields, with_count=True)
    results = await job_infos(page.documents, parsed.fields, scope)
    return {"results": results, "total_count": page.total_count or 0}


async def _stat(context: GatewayContext, body: Any) -> dict[str, Any]:
    parsed: StatRequest = parse_stat_query(
        _checked(body),
        default_page_size=context.settings.default_page_size,
        max_page_size=context.settings.max_page_size,
    )
    scope = context.scope(parsed.domain_id)
    result = await scope.repository.statistics(parsed.spec)
    answer: dict[str, Any] = {"results": [to_json(row) for row in result.rows]}
    if result.total_count is not None:
        answer["total_count"] = result.total_count
    return answer


# JobInfo ----------------------------------------------------------------------------------

EVERY_ERROR_PART = frozenset(ERROR_PARTS)


async def job_infos(
    documents: Sequence[Mapping[str, Any]], fields: Sequence[str], scope: Scope
) -> list[dict[str, Any]]:
    """Documents → ``JobInfo`` JSON with only ``fields``; errors and controllers are read by
    the scope's loaders, one batch each for the whole page."""
    errors: Sequence[Any] = ()
    controllers: Sequence[Any] = ()
    if "errors" in fields:
        errors = await asyncio.gather(
            *(scope.loaders.errors_by_job_id.load((doc["_id"], EVERY_ERROR_PART)) for doc in documents)
        )
    if "controller_info" in fields:
        controllers = await asyncio.gather(*(_controller(doc, scope) for doc in documents))
    return [
        _job_info(doc, fields, errors[i] if errors else None, controllers[i] if controllers else None)
        for i, doc in enumerate(documents)
    ]


async def _controller(document: Mapping[str, Any], scope: Scope) -> dict[str, Any] | None:
    ref = document.get("controller")
    return await scope.loaders.controller_by_id.load(ref) if isinstance(ref, ObjectId) else None


def _job_info(
    doc: Mapping[str, Any],
    fields: Sequence[str],
    errors: list[dict[str, Any]] | None,
    controller: Mapping[str, Any] | None,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "job_id": doc.get("job_id"),
        "status": doc.get("status") or "NONE",
        "filter": lambda: to_json(doc.get("filters", doc.get("filter"))) or {},
        "total_tasks": lambda: int(doc.get("total_tasks") or 0),
        "remained_tasks": lambda: int(doc.get("remained_tasks") or 0),
        "errors": lambda: [_error_info(e) for e in errors or ()],
        "controller_info": lambda: _controller_info(controller),
        "project_id": doc.get("project_id"),
        "domain_id": doc.get("domain_id"),
        "created_at": lambda: _date(doc.get("created_at")),
        "updated_at": lambda: _date(doc.get("updated_at")),
        "finished_at": lambda: _date(doc.get("finished_at")),
    }
    return {name: _value(values[name]) for name in fields}


def _value(value: Any) -> Any:
    return value() if callable(value) else value


def _date(value: Any) -> str | None:
    return serialize_datetime(value) if value is not None else None


def _error_info(error: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "error_code": error.get("error_code") or "",
        "message": error.get("message") or "",
        "additional": to_json(error.get("additional")) or {},
    }


def _controller_info(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    plugin = doc.get("plugin_info")
    return {
        "controller_id": doc.get("controller_id"),
        "name": doc.get("name"),
        "provider": doc.get("provider"),
        "capability": to_json(doc.get("capability")) or {},
        "plugin_info": to_json(plugin) if isinstance(plugin, Mapping) else None,
        "tags": to_json(doc.get("tags")) or {},
        "created_at": _date(doc.get("created_at")),
        "domain_id": doc.get("domain_id"),
    }
