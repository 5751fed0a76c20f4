"""The only place that sends commands to MongoDB, and the only place that adds the tenant scope.

A :class:`JobRepository` is bound to one domain when it is built; every filter, sub-query, loader
query and pipeline it sends is ANDed with ``domain_id == <that domain>``. Nothing above this
module builds a MongoDB filter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from gateway.mongo.client import driver_errors
from gateway.mongo.expr import Expr, SearchSpec
from gateway.mongo.query import Filter, QueryLimits, combine_and, compile_filter, compile_sort

JOB_COLLECTION = "job"
CONTROLLER_COLLECTION = "controller"

# API field name → stored fields the page query must read to produce it.
_STORED_FIELDS: dict[str, tuple[str, ...]] = {
    "job_id": ("job_id",),
    "status": ("status",),
    "filter": ("filters", "filter"),
    "total_tasks": ("total_tasks",),
    "remained_tasks": ("remained_tasks",),
    "controller_info": ("controller",),
    "schedule_id": ("schedule_id",),
    "project_id": ("project_id",),
    "domain_id": ("domain_id",),
    "created_at": ("created_at",),
    "updated_at": ("updated_at",),
    "finished_at": ("finished_at",),
}
ALWAYS_READ = ("_id", "domain_id")


def job_projection(fields: Iterable[str] | None) -> dict[str, int]:
    """Projection for the API fields wanted; ``errors`` is never read here (its loader reads it)."""
    wanted = _STORED_FIELDS if fields is None else fields
    stored = {name for field in wanted for name in _STORED_FIELDS.get(field, ())}
    return {name: 1 for name in sorted(stored.union(ALWAYS_READ))}


@dataclass(frozen=True, slots=True)
class Page:
    documents: list[dict[str, Any]]
    total_count: int | None


class JobRepository:
    """Reads jobs and controllers of exactly one domain."""

    def __init__(
        self, database: Any, domain_id: str, *, max_time_ms: int, limits: QueryLimits
    ) -> None:
        self._jobs = database[JOB_COLLECTION]
        self._controllers = database[CONTROLLER_COLLECTION]
        self.domain_id = domain_id
        self._max_time_ms = max_time_ms
        self._limits = limits

    def scoped(self, mongo_filter: Filter) -> Filter:
        """``mongo_filter`` AND this repository's domain; the domain condition always comes first."""
        return combine_and([{"domain_id": self.domain_id}, mongo_filter])

    async def job_filter(self, where: Expr) -> Filter:
        """Compile a neutral filter and run its controller sub-queries; the result is scoped."""
        plan = compile_filter(where, self._limits)
        ids = await asyncio.gather(*(self._controller_ids(f) for f in plan.controller_filters))
        return self.scoped(plan.resolve(ids))

    async def _controller_ids(self, controller_filter: Filter) -> list[ObjectId]:
        with driver_errors():
            cursor = self._controllers.find(
                self.scoped(controller_filter), {"_id": 1}, max_time_ms=self._max_time_ms
            )
            return [doc["_id"] async for doc in cursor]

    async def search(
        self, spec: SearchSpec, fields: Collection[str] | None, *, with_count: bool
    ) -> Page:
        """One page of jobs and, when asked, the count of every match (run concurrently)."""
        sort = compile_sort(spec.sort)  # checked before any command is sent
        mongo_filter = await self.job_filter(spec.where)
        want_page = not spec.count_only and spec.limit != 0
        page, total = await asyncio.gather(
            self._find(mongo_filter, sort, spec, fields) if want_page else _nothing(),
            self._count(mongo_filter) if with_count else _none(),
        )
        return Page(page, total)

    async def _find(
        self,
        mongo_filter: Filter,
        sort: list[tuple[str, int]],
        spec: SearchSpec,
        fields: Collection[str] | None,
    ) -> list[dict[str, Any]]:
        limit = spec.limit or 0
        with driver_errors():
            cursor = self._jobs.find(
                mongo_filter,
                job_projection(fields),
                sort=sort,
                skip=max(spec.start, 1) - 1,
                limit=limit,
                batch_size=limit,
                max_time_ms=self._max_time_ms,
            )
            documents: list[dict[str, Any]] = await cursor.to_list(length=None)
            return documents

    async def _count(self, mongo_filter: Filter) -> int:
        with driver_errors():
            return int(
                await self._jobs.count_documents(mongo_filter, maxTimeMS=self._max_time_ms)
            )

    async def find_job(self, job_id: str, fields: Collection[str] | None) -> dict[str, Any] | None:
        with driver_errors():
            document: dict[str, Any] | None = await self._jobs.find_one(
                self.scoped({"job_id": job_id}),
                job_projection(fields),
                max_time_ms=self._max_time_ms,
            )
            return document

    async def errors_by_job(self, ids: Sequence[ObjectId]) -> list[list[dict[str, Any]]]:
        """The ``errors`` array of each job ``_id``, in key order (``[]`` for a miss)."""
        with driver_errors():
            cursor = self._jobs.find(
                self.scoped({"_id": {"$in": list(ids)}}),
                {"errors": 1},
                limit=len(ids),  # _ids are unique: the server closes the cursor, no getMore
                batch_size=len(ids),
                max_time_ms=self._max_time_ms,
            )
            found = {doc["_id"]: doc.get("errors") or [] async for doc in cursor}
        return [found.get(key, []) for key in ids]

    async def controllers_by_id(self, ids: Sequence[ObjectId]) -> list[dict[str, Any] | None]:
        """Controller documents by ``_id``, in key order (``None`` when gone or not this domain)."""
        with driver_errors():
            cursor = self._controllers.find(
                self.scoped({"_id": {"$in": list(ids)}}),
                limit=len(ids),
                batch_size=len(ids),
                max_time_ms=self._max_time_ms,
            )
            found = {doc["_id"]: doc async for doc in cursor}
        return [found.get(key) for key in ids]


async def _nothing() -> list[dict[str, Any]]:
    return []


async def _none() -> None:
    return None
