"""The seed's REST routes, SpaceONE JSON in and out:

    GET  /power-scheduler/v1/jobs          JobsQuery as query parameters → JobsInfo
    POST /power-scheduler/v1/jobs/search   JobsQuery as a JSON body      → JobsInfo
    POST /power-scheduler/v1/jobs/stat     JobStatQuery                  → {results, total_count}

They run through the same compiler, limits and domain scoping as GraphQL: the caller comes from
the request context (:class:`gateway.context.ContextFactory`, shared with the GraphQL endpoint),
and every read from that context's repository. Errors are
``{"error": {"code": "ERROR_…", "message": …}}`` with the error's HTTP status.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.context import ContextFactory, GatewayContext, Scope
from gateway.decoding import JSONInputError, loads_request_json
from gateway.encoding import json_bytes
from gateway.errors import GatewayError, InvalidParameter, RateLimited, spaceone_error_body
from gateway.mongo.bulkhead import bounded_by, request_deadline
from gateway.mongo.documents import (
    controller_ref,
    controller_values,
    error_values,
    job_values,
    serialize_datetime,
    to_json,
)
from gateway.mongo.repository import ERROR_PARTS
from gateway.observability.requests import current_request
from gateway.spaceone.jobs_query import JobsRequest, parse_jobs_query
from gateway.spaceone.stat_query import StatRequest, parse_stat_query

log = logging.getLogger("gateway.spaceone.routes")

PREFIX = "/power-scheduler/v1"


def rest_routes(source: ContextFactory) -> list[Route]:
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


async def answer(request: Request, source: ContextFactory, handler: Handler, body: Any) -> Response:
    context: GatewayContext | None = None
    stats = current_request.get()
    if stats is not None:
        stats.operation = f"rest {request.url.path.rsplit('/', 1)[-1]}"
    deadline = request.state.deadline = request_deadline(source.settings.request_timeout_seconds)
    try:
        async with bounded_by(deadline):
            context = await source.for_request(request)
            context.check_authenticated()
            return JSONAnswer(await handler(context, body))
    except GatewayError as error:
        if stats is not None:
            stats.outcome = error.code
        return error_response(error)
    except Exception:
        request_id = context.request_id if context else None
        log.exception("unexpected error on %s (request %s)", request.url.path, request_id)
        return JSONAnswer(spaceone_error_body("ERROR_UNKNOWN", "Internal server error"), 500)


async def http_error(request: Request, error: Exception) -> Response:
    """Routing errors (405, 404) in the SpaceONE error JSON on the REST routes, Starlette's plain
    text elsewhere."""
    assert isinstance(error, HTTPException)
    if not request.url.path.startswith(PREFIX + "/"):
        return PlainTextResponse(error.detail, error.status_code, headers=error.headers)
    code = {404: "ERROR_NOT_FOUND", 405: "ERROR_METHOD_NOT_ALLOWED"}.get(
        error.status_code, "ERROR_INVALID_REQUEST"
    )
    return JSONAnswer(spaceone_error_body(code, error.detail), error.status_code, headers=error.headers)


def error_response(error: GatewayError) -> JSONResponse:
    code = error.spaceone_code or f"ERROR_{error.code}"
    retry = error.retry_after if isinstance(error, RateLimited) else None
    headers = {"Retry-After": str(retry)} if retry else None
    return JSONAnswer(spaceone_error_body(code, error.spaceone_message), error.http_status, headers)


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
            except JSONInputError as error:
                return _Invalid(error.message)
            if not isinstance(query, dict):
                return _Invalid("the 'query' parameter must be a JSON object")
            body["query"] = {**body.get("query", {}), **query}
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
    ref = controller_ref(document)
    return await scope.loaders.controller_by_id.load(ref) if ref is not None else None


JOB_INFO_STRUCTS = ("filter",)
ERROR_INFO_STRUCTS = ("additional",)
CONTROLLER_INFO_STRUCTS = ("capability", "tags")
DATES = ("created_at", "updated_at", "finished_at")


def _job_info(
    doc: Mapping[str, Any],
    fields: Sequence[str],
    errors: list[dict[str, Any]] | None,
    controller: Mapping[str, Any] | None,
) -> dict[str, Any]:
    values = _spaceone(job_values(doc), JOB_INFO_STRUCTS)
    if "errors" in fields:
        values["errors"] = [_spaceone(error_values(e), ERROR_INFO_STRUCTS) for e in errors or ()]
    if "controller_info" in fields:
        values["controller_info"] = (
            _spaceone(controller_values(controller), CONTROLLER_INFO_STRUCTS) if controller else None
        )
    return {name: values[name] for name in fields}


def _spaceone(values: dict[str, Any], structs: Sequence[str]) -> dict[str, Any]:
    """API values as SpaceONE's JSON writes them: an unset Struct is ``{}``, dates are text."""
    for name in structs:
        if values[name] is None:
            values[name] = {}
    for name in DATES:
        if values.get(name) is not None:
            values[name] = serialize_datetime(values[name])
    return values
