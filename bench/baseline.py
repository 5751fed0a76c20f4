"""The yardstick: plain Starlette endpoints that send the gateway's MongoDB commands and return
the gateway's JSON, with no GraphQL at all.

Each endpoint is what a careful hand-written REST service would do for one fixed shape of
response: the same filter, projection, sort, skip and limit; the page and the count issued
concurrently; one ``$in`` query for the page's errors and one for its controllers; the
group-by-status pipeline written out; a keyset page built for its one fixed order. The bodies
are compared with the gateway's once per scenario before anything is timed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from bson import ObjectId
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.mongo.pagination import CursorCodec
from gateway.settings import DEVELOPMENT_CURSOR_SECRET

MAX_TIME_MS = 10_000  # the gateway's default GATEWAY_MAX_TIME_MS
SORT = [("created_at", -1), ("_id", 1)]
SCALAR_PROJECTION = {
    name: 1
    for name in (
        "_id",
        "created_at",
        "domain_id",
        "filter",
        "filters",
        "finished_at",
        "job_id",
        "project_id",
        "remained_tasks",
        "schedule_id",
        "status",
        "total_tasks",
        "updated_at",
    )
}
ERROR_PROJECTION = {"errors.error_code": 1, "errors.message": 1, "errors.additional": 1}
NESTED_PROJECTION = {name: 1 for name in sorted([*SCALAR_PROJECTION, "controller"])}
MAX_STATS_ROWS = 10_000  # the gateway's default GATEWAY_STATS_MAX_ROWS
CONNECTION_ORDER = [("created_at", -1), ("_id", -1)]  # jobsConnection's default order


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return _date(value)
    if isinstance(value, ObjectId):
        return str(value)
    return value


def _date(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat() + "Z"  # stored naive, in UTC


def _job(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "jobId": str(doc.get("job_id") or ""),
        "status": doc.get("status"),
        "filter": _plain(doc.get("filters", doc.get("filter"))),
        "totalTasks": int(doc.get("total_tasks") or 0),
        "remainedTasks": int(doc.get("remained_tasks") or 0),
        "scheduleId": doc.get("schedule_id"),
        "projectId": doc.get("project_id"),
        "domainId": str(doc.get("domain_id") or ""),
        "createdAt": _date(doc.get("created_at")),
        "updatedAt": _date(doc.get("updated_at")),
        "finishedAt": _date(doc.get("finished_at")),
    }


def _error(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "errorCode": str(doc.get("error_code") or ""),
        "message": str(doc.get("message") or ""),
        "additional": _plain(doc.get("additional")),
    }


def _controller(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    plugin = doc.get("plugin_info")
    return {
        "controllerId": str(doc.get("controller_id") or ""),
        "name": doc.get("name"),
        "provider": doc.get("provider"),
        "pluginInfo": {
            "pluginId": str(plugin.get("plugin_id") or ""),
            "version": plugin.get("version"),
        }
        if isinstance(plugin, dict)
        else None,
        "createdAt": _date(doc.get("created_at")),
    }


class Baseline:
    """The endpoints, bound to one Motor-like database."""

    def __init__(self, database: Any, cursor_secret: str = DEVELOPMENT_CURSOR_SECRET) -> None:
        self.jobs = database["job"]
        self.controllers = database["controller"]
        self.cursors = CursorCodec(cursor_secret)  # the gateway's signed cursor format

    async def page(self, request: Request) -> JSONResponse:
        """``/jobs?domain_id=&limit=&nested=0|1&count=0|1&results=0|1``"""
        params = request.query_params
        domain, limit = params["domain_id"], int(params["limit"])
        nested, count, results = (params.get(k) == "1" for k in ("nested", "count", "results"))
        mongo_filter = {"domain_id": domain}
        documents, total = await asyncio.gather(
            self._find(mongo_filter, nested, limit) if results else _empty(),
            self.jobs.count_documents(mongo_filter, maxTimeMS=MAX_TIME_MS) if count else _none(),
        )
        body: dict[str, Any] = {}
        if count:
            body["totalCount"] = total
        if results:
            jobs = [_job(doc) for doc in documents]
            if nested:
                await self._attach(domain, documents, jobs)
            body["results"] = jobs
        return JSONResponse({"data": {"jobs": body}})

    async def one(self, request: Request) -> JSONResponse:
        """``/job?domain_id=&job_id=`` with errors and controllerInfo."""
        domain, job_id = request.query_params["domain_id"], request.query_params["job_id"]
        doc = await self.jobs.find_one(
            {"$and": [{"domain_id": domain}, {"job_id": job_id}]},
            NESTED_PROJECTION,
            max_time_ms=MAX_TIME_MS,
        )
        job = None
        if doc is not None:
            job = _job(doc)
            await self._attach(domain, [doc], [job])
        return JSONResponse({"data": {"job": job}})

    async def stats_by_status(self, request: Request) -> JSONResponse:
        """``/stats/status?domain_id=``: the number of jobs per status, most frequent first."""
        domain = request.query_params["domain_id"]
        pipeline = [
            {"$match": {"domain_id": domain}},
            {"$group": {"_id": {"status": "$status"}, "count": {"$sum": 1}}},
            {"$sort": {"count": -1, "_id": 1}},
            {"$limit": MAX_STATS_ROWS + 1},
        ]
        cursor = self.jobs.aggregate(
            pipeline, maxTimeMS=MAX_TIME_MS, allowDiskUse=False, batchSize=MAX_STATS_ROWS + 1
        )
        rows = [{"status": row["_id"].get("status"), "count": row["count"]} async for row in cursor]
        return JSONResponse({"data": {"jobStats": {"results": rows, "totalCount": None}}})

    async def page_after(self, request: Request) -> JSONResponse:
        """``/jobs/after?domain_id=&first=&after=``: the ``first`` jobs after a cursor, newest
        first (one range query, no skip; one extra row tells whether more follow)."""
        params = request.query_params
        domain, first = params["domain_id"], int(params["first"])
        created, object_id = self.cursors.decode(params["after"], CONNECTION_ORDER, "after")
        same_date_after = {"$and": [{"created_at": created}, {"_id": {"$lt": object_id}}]}
        if created is None:  # null dates come last in a descending order
            after: dict[str, Any] = {"$and": [{"created_at": None}, {"_id": {"$lt": object_id}}]}
        else:
            older = {"$or": [{"created_at": {"$lt": created}}, {"created_at": None}]}
            after = {"$or": [older, same_date_after]}
        cursor = self.jobs.find(
            {"$and": [{"domain_id": domain}, after]},
            SCALAR_PROJECTION,
            sort=CONNECTION_ORDER,
            limit=first + 1,
            batch_size=first + 1,
            max_time_ms=MAX_TIME_MS,
        )
        documents: list[dict[str, Any]] = await cursor.to_list(length=None)
        page = documents[:first]
        end = None
        if page:
            last = page[-1]
            end = self.cursors.encode(CONNECTION_ORDER, (last.get("created_at"), last["_id"]))
        return JSONResponse(
            {
                "data": {
                    "jobsConnection": {
                        "nodes": [_job(doc) for doc in page],
                        "pageInfo": {"hasNextPage": len(documents) > first, "endCursor": end},
                    }
                }
            }
        )

    async def _find(self, mongo_filter: dict[str, Any], nested: bool, limit: int) -> list[Any]:
        cursor = self.jobs.find(
            mongo_filter,
            NESTED_PROJECTION if nested else SCALAR_PROJECTION,
            sort=SORT,
            skip=0,
            limit=limit,
            batch_size=limit,
            max_time_ms=MAX_TIME_MS,
        )
        documents: list[Any] = await cursor.to_list(length=None)
        return documents

    async def _attach(self, domain: str, documents: list[dict[str, Any]], jobs: list[dict[str, Any]]) -> None:
        """Errors and controllers of the page: two ``$in`` queries, issued concurrently."""
        job_ids = [doc["_id"] for doc in documents]
        refs = [doc.get("controller") for doc in documents]
        controller_ids = list(dict.fromkeys(r for r in refs if isinstance(r, ObjectId)))
        errors, controllers = await asyncio.gather(
            self._by_id(self.jobs, domain, job_ids, ERROR_PROJECTION),
            self._by_id(self.controllers, domain, controller_ids, None),
        )
        for job, doc, ref in zip(jobs, documents, refs, strict=True):
            job["errors"] = [_error(e) for e in (errors.get(doc["_id"]) or {}).get("errors") or []]
            job["controllerInfo"] = _controller(controllers.get(ref)) if ref else None

    async def _by_id(
        self, collection: Any, domain: str, ids: list[ObjectId], projection: Any
    ) -> dict[ObjectId, dict[str, Any]]:
        if not ids:
            return {}
        args = (projection,) if projection else ()
        cursor = collection.find(
            {"$and": [{"domain_id": domain}, {"_id": {"$in": ids}}]},
            *args,
            limit=len(ids),
            batch_size=len(ids),
            max_time_ms=MAX_TIME_MS,
        )
        return {doc["_id"]: doc async for doc in cursor}


async def _empty() -> list[Any]:
    return []


async def _none() -> None:
    return None


def create_baseline_app(database: Any, cursor_secret: str = DEVELOPMENT_CURSOR_SECRET) -> Starlette:
    baseline = Baseline(database, cursor_secret)
    return Starlette(
        routes=[
            Route("/jobs", baseline.page),
            Route("/job", baseline.one),
            Route("/stats/status", baseline.stats_by_status),
            Route("/jobs/after", baseline.page_after),
        ]
    )


def main() -> None:
    """``python -m bench.baseline MONGODB_URI PORT``: serve the baseline with uvicorn, with the
    gateway's own driver settings (the driver of ``GATEWAY_MONGODB_DRIVER``, pool size, timeouts)
    and server defaults (uvloop, httptools)."""
    import sys  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415

    from gateway.mongo.client import open_mongo  # noqa: PLC0415
    from gateway.settings import Settings  # noqa: PLC0415

    uri, port = sys.argv[1], int(sys.argv[2])
    settings = Settings(mongodb_uri=uri)
    handle = open_mongo(settings)
    app = create_baseline_app(handle.database, settings.cursor_secret.get_secret_value())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
