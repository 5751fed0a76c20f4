"""The only place that sends commands to MongoDB, and the only place that adds the tenant scope.

A :class:`JobRepository` is bound to one domain when it is built; every filter, sub-query, loader
query and pipeline it sends is ANDed with ``domain_id == <that domain>``. Nothing above this
module builds a MongoDB filter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bson import ObjectId

from gateway.errors import QueryError, QueryTooComplex
from gateway.mongo.bulkhead import Bulkhead, Deadline, Slot
from gateway.mongo.client import change_stream_errors, driver_errors, gateway_error, pipeline_error
from gateway.mongo.dashboards import (
    Summary,
    TimelineBucket,
    bucket_starts,
    check_range,
    naive_utc,
    read_summary,
    read_timeline,
    summary_pipeline,
    timeline_pipeline,
)
from gateway.mongo.expr import All, Condition, Expr, SearchSpec
from gateway.mongo.fields import resolve_job_field
from gateway.mongo.pagination import KeysetQuery, after_filter, reverse, window_filter
from gateway.mongo.query import Filter, QueryLimits, combine_and, compile_filter, compile_sort
from gateway.mongo.stats import StatsLimits, StatsSpec, compile_statistics
from gateway.settings import Settings

JOB_COLLECTION = "job"
CONTROLLER_COLLECTION = "controller"

# API field name → stored fields the page query must read to produce it.
_STORED_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("job_id",),  # with the domain, always read
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
ERROR_PARTS = ("error_code", "message", "additional")


def job_projection(fields: Iterable[str] | None, also: Iterable[str] = ()) -> dict[str, int]:
    """Projection for the API fields wanted (all when None) plus the stored paths ``also``
    (sort keys); ``errors`` is never read here (its loader reads it)."""
    wanted = _STORED_FIELDS if fields is None else fields
    stored = {name for field in wanted for name in _STORED_FIELDS.get(field, ())}
    return {name: 1 for name in sorted(stored.union(ALWAYS_READ, also))}


@dataclass(frozen=True, slots=True)
class Page:
    documents: list[dict[str, Any]]
    total_count: int | None


@dataclass(frozen=True, slots=True)
class KeysetPage:
    """Up to ``size + 1`` documents in travel order (the extra one tells there are more), the
    count of every match when asked, and whether anything lies behind the start bound."""

    documents: list[dict[str, Any]]
    total_count: int | None
    anything_behind: bool | None


@dataclass(frozen=True, slots=True)
class AggregationLimits:
    """Bounds on aggregation (their defaults are those of the settings)."""

    max_rows: int
    max_stages: int
    allow_disk_use: bool
    max_timeline_buckets: int

    @classmethod
    def from_settings(cls, settings: Settings) -> AggregationLimits:
        return cls(
            max_rows=settings.stats_max_rows,
            max_stages=settings.stats_max_stages,
            allow_disk_use=settings.aggregate_allow_disk_use,
            max_timeline_buckets=settings.timeline_max_buckets,
        )


@dataclass(frozen=True, slots=True)
class StatsResult:
    rows: list[Any]
    total_count: int | None


@dataclass(frozen=True, slots=True)
class Collections:
    """The two collections a repository reads, looked up once per process (the driver builds a
    new collection object on every lookup) and shared by every request's repositories."""

    jobs: Any
    controllers: Any

    @classmethod
    def of(cls, database: Any) -> Collections:
        return cls(database[JOB_COLLECTION], database[CONTROLLER_COLLECTION])


class Command:
    """Around one command: a slot of the domain's bulkhead, the ``maxTimeMS`` to send (what is
    left of the request's deadline, at most the configured one, given by ``async with``), and
    the driver's errors as gateway errors (a pipeline's refusals as client errors). A class, not
    a generator: one wraps every command sent."""

    __slots__ = ("_deadline", "_max_time_ms", "_pipeline", "_slot")

    def __init__(self, slot: Slot, max_time_ms: int, deadline: Deadline | None, pipeline: bool) -> None:
        self._slot = slot
        self._max_time_ms = max_time_ms
        self._deadline = deadline
        self._pipeline = pipeline

    async def __aenter__(self) -> int:
        await self._slot.__aenter__()
        if self._deadline is None:
            return self._max_time_ms
        try:
            return self._deadline.max_time_ms(self._max_time_ms)
        except BaseException:
            await self._slot.__aexit__()
            raise

    async def __aexit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        await self._slot.__aexit__()
        if error is not None:
            translated = pipeline_error(error) if self._pipeline else gateway_error(error)
            if translated is not None:
                raise translated from error


class JobRepository:
    """Reads jobs and controllers of exactly one domain (``database`` is a driver database, or
    its :class:`Collections`)."""

    def __init__(
        self,
        database: Any,
        domain_id: str,
        *,
        max_time_ms: int,
        limits: QueryLimits,
        aggregation: AggregationLimits,
        bulkhead: Bulkhead | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        collections = database if isinstance(database, Collections) else Collections.of(database)
        self._jobs = collections.jobs
        self._controllers = collections.controllers
        self.domain_id = domain_id
        self._max_time_ms = max_time_ms
        self._limits = limits
        self._aggregation = aggregation
        self._bulkhead = bulkhead or Bulkhead(0, 0)
        self._deadline = deadline

    def _command(self, *, pipeline: bool = False) -> Command:
        """Around every command sent (``async with self._command() as max_time_ms``)."""
        slot = self._bulkhead.slot(self.domain_id, self._deadline)
        return Command(slot, self._max_time_ms, self._deadline, pipeline)

    def scoped(self, mongo_filter: Filter) -> Filter:
        """``mongo_filter`` AND this repository's domain; the domain condition always comes first."""
        return combine_and([{"domain_id": self.domain_id}, mongo_filter])

    async def job_filter(self, where: Expr) -> Filter:
        """Compile a neutral filter and run its controller sub-queries; the result is scoped."""
        return self.scoped(await self._resolved_filter(where))

    async def _resolved_filter(self, where: Expr) -> Filter:
        """A compiled filter with its controller sub-queries answered; not yet scoped."""
        plan = compile_filter(where, self._limits)
        if not plan.controller_filters:
            return plan.resolve([])
        ids = await asyncio.gather(*(self._controller_ids(f) for f in plan.controller_filters))
        return plan.resolve(ids)

    async def _controller_ids(self, controller_filter: Filter) -> list[ObjectId]:
        async with self._command() as max_time_ms:
            cursor = self._controllers.find(self.scoped(controller_filter), {"_id": 1}, max_time_ms=max_time_ms)
            return [doc["_id"] async for doc in cursor]

    async def search(self, spec: SearchSpec, fields: Collection[str] | None, *, with_count: bool) -> Page:
        """One page of jobs and, when asked, the count of every match (run concurrently)."""
        sort = compile_sort(spec.sort)  # checked before any command is sent
        mongo_filter = await self.job_filter(spec.where)
        want_page = not spec.count_only and spec.limit != 0
        page, total = await concurrently(
            self._find(mongo_filter, sort, spec, fields) if want_page else None,
            self._count(mongo_filter) if with_count else None,
        )
        return Page(page or [], total)

    async def _find(
        self,
        mongo_filter: Filter,
        sort: list[tuple[str, int]],
        spec: SearchSpec,
        fields: Collection[str] | None,
    ) -> list[dict[str, Any]]:
        limit = spec.limit or 0
        async with self._command() as max_time_ms:
            cursor = self._jobs.find(
                mongo_filter,
                job_projection(fields),
                sort=sort,
                skip=max(spec.start, 1) - 1,
                limit=limit,
                batch_size=limit,
                max_time_ms=max_time_ms,
            )
            documents: list[dict[str, Any]] = await cursor.to_list(length=None)
            return documents

    async def _count(self, mongo_filter: Filter) -> int:
        async with self._command() as max_time_ms:
            return int(await self._jobs.count_documents(mongo_filter, maxTimeMS=max_time_ms))

    async def keyset_page(
        self,
        where: Expr,
        keyset: KeysetQuery,
        fields: Collection[str] | None,
        *,
        with_count: bool,
        look_behind: bool,
    ) -> KeysetPage:
        """One keyset page: a range query in ``keyset.order`` (no skip), sent with
        ``limit = batchSize = size + 1`` so the server answers in one batch. The count and the
        look-behind probe (one ``_id`` before ``keyset.start``) run concurrently when asked."""
        matches = await self._resolved_filter(where)
        page_filter = self.scoped(
            combine_and([matches, window_filter(keyset.order, keyset.start, keyset.stop)])
        )
        probe = look_behind and keyset.start is not None
        documents, total, behind = await concurrently(
            self._find_range(page_filter, keyset, fields),
            self._count(self.scoped(matches)) if with_count else None,
            self._behind(matches, keyset) if probe else None,
        )
        return KeysetPage(documents, total, behind if probe else None)

    async def _find_range(
        self, page_filter: Filter, keyset: KeysetQuery, fields: Collection[str] | None
    ) -> list[dict[str, Any]]:
        fetch = keyset.size + 1
        async with self._command() as max_time_ms:
            cursor = self._jobs.find(
                page_filter,
                job_projection(fields, also=(path for path, _ in keyset.order)),
                sort=list(keyset.order),
                limit=fetch,
                batch_size=fetch,
                max_time_ms=max_time_ms,
            )
            documents: list[dict[str, Any]] = await cursor.to_list(length=None)
        return documents

    async def _behind(self, matches: Filter, keyset: KeysetQuery) -> bool:
        """Whether a matching job lies before ``keyset.start`` (looking the other way)."""
        assert keyset.start is not None
        backwards = reverse(keyset.order)
        behind = self.scoped(combine_and([matches, after_filter(backwards, keyset.start)]))
        async with self._command() as max_time_ms:
            cursor = self._jobs.find(
                behind,
                {"_id": 1},
                sort=backwards,
                limit=1,
                batch_size=1,
                max_time_ms=max_time_ms,
            )
            return bool(await cursor.to_list(length=None))

    # live updates ----------------------------------------------------------------------------

    def check_filter(self, where: Expr) -> None:
        """Refuse a filter that cannot be compiled (before a subscription starts)."""
        compile_filter(where, self._limits)

    async def matching_ids(self, where: Expr, ids: Collection[ObjectId]) -> set[ObjectId]:
        """Which of ``ids`` match ``where`` now: one ``find`` reading ``_id`` only (plus the
        controller sub-queries the filter needs), the same compiled filter as every query."""
        if not ids:
            return set()
        matches = await self._resolved_filter(where)
        wanted = self.scoped(combine_and([matches, {"_id": {"$in": list(ids)}}]))
        with driver_errors():
            cursor = self._jobs.find(
                wanted,
                {"_id": 1},
                limit=len(ids),
                batch_size=len(ids),
                max_time_ms=self._max_time_ms,
            )
            return {doc["_id"] async for doc in cursor}

    async def matching_documents(self, where: Expr, documents: Sequence[Mapping[str, Any]]) -> set[int]:
        """Which of ``documents`` (whole jobs as a change left them) match ``where``: evaluated
        by the database on those very documents (``$documents``, then the scoped ``$match`` of
        the compiled filter), in one command. A server without ``$documents`` (mongomock, before
        MongoDB 5.1) answers from the stored jobs instead (one ``find`` on their ``_id``)."""
        if not documents:
            return set()
        matches = await self._resolved_filter(where)
        pipeline = [
            {"$documents": [{**doc, EVENT_INDEX: i} for i, doc in enumerate(documents)]},
            {"$match": self.scoped(matches)},
            {"$project": {EVENT_INDEX: 1}},
        ]
        try:
            with driver_errors():
                cursor = self._jobs.database.aggregate(pipeline, maxTimeMS=self._max_time_ms)
                rows: list[dict[str, Any]] = await cursor.to_list(length=None)
            return {int(row[EVENT_INDEX]) for row in rows}
        except (QueryError, NotImplementedError, AttributeError, TypeError):
            ids = {doc["_id"] for doc in documents}
            found = await self.matching_ids(where, ids)
            return {i for i, doc in enumerate(documents) if doc["_id"] in found}

    async def latest_update(self) -> tuple[Any, ObjectId] | None:
        """The (``updated_at``, ``_id``) position of the domain's last update (polling's start)."""
        with driver_errors():
            cursor = self._jobs.find(
                self.scoped({}),
                {"_id": 1, "updated_at": 1},
                sort=reverse(UPDATE_ORDER),
                limit=1,
                batch_size=1,
                max_time_ms=self._max_time_ms,
            )
            found = await cursor.to_list(length=None)
        return (found[0].get("updated_at"), found[0]["_id"]) if found else None

    async def updated_since(self, position: tuple[Any, ObjectId] | None, limit: int) -> list[dict[str, Any]]:
        """Whole job documents updated after ``position`` in (``updated_at``, ``_id``) order."""
        wanted = self.scoped(after_filter(UPDATE_ORDER, position) if position else {})
        with driver_errors():
            cursor = self._jobs.find(
                wanted,
                sort=list(UPDATE_ORDER),
                limit=limit,
                batch_size=limit,
                max_time_ms=self._max_time_ms,
            )
            documents: list[dict[str, Any]] = await cursor.to_list(length=None)
            return documents

    async def find_job(self, job_id: str, fields: Collection[str] | None) -> dict[str, Any] | None:
        async with self._command() as max_time_ms:
            document: dict[str, Any] | None = await self._jobs.find_one(
                self.scoped({"job_id": job_id}),
                job_projection(fields),
                max_time_ms=max_time_ms,
            )
            return document

    async def jobs_by_job_id(self, job_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Job documents (without ``errors``) by ``job_id``, in key order (``None`` for a miss)."""
        return await self._by_key(self._jobs, "job_id", job_ids, job_projection(None))

    async def controllers_by_controller_id(self, controller_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Controller documents by ``controller_id``, in key order (``None`` for a miss)."""
        return await self._by_key(self._controllers, "controller_id", controller_ids, None)

    async def _by_key(
        self, collection: Any, key: str, values: Sequence[str], projection: dict[str, int] | None
    ) -> list[dict[str, Any] | None]:
        """One scoped ``$in`` query; the first document of each value, in key order."""
        with driver_errors():
            cursor = collection.find(
                self.scoped({key: {"$in": list(values)}}),
                projection,
                batch_size=len(values) + 1,  # one batch: the server closes the cursor
                max_time_ms=self._max_time_ms,
            )
            found: dict[str, dict[str, Any]] = {}
            async for document in cursor:
                found.setdefault(str(document.get(key)), document)
        return [found.get(value) for value in values]

    async def errors_by_job(
        self, ids: Sequence[ObjectId], parts: Collection[str] = ERROR_PARTS
    ) -> list[list[dict[str, Any]]]:
        """The ``errors`` of each job ``_id`` in key order (``[]`` for a miss), reading only
        the ``parts`` of each error that are wanted (messages can be 2,000 characters)."""
        wanted = [part for part in ERROR_PARTS if part in parts] or ["error_code"]
        async with self._command() as max_time_ms:
            cursor = self._jobs.find(
                self.scoped({"_id": {"$in": list(ids)}}),
                {f"errors.{part}": 1 for part in wanted},
                limit=len(ids),  # _ids are unique: the server closes the cursor, no getMore
                batch_size=len(ids),
                max_time_ms=max_time_ms,
            )
            found = {doc["_id"]: doc.get("errors") or [] async for doc in cursor}
        return [found.get(key, []) for key in ids]

    async def controllers_by_id(self, ids: Sequence[ObjectId]) -> list[dict[str, Any] | None]:
        """Controller documents by ``_id``, in key order (``None`` when gone or not this domain)."""
        async with self._command() as max_time_ms:
            cursor = self._controllers.find(
                self.scoped({"_id": {"$in": list(ids)}}),
                limit=len(ids),
                batch_size=len(ids),
                max_time_ms=max_time_ms,
            )
            found = {doc["_id"]: doc async for doc in cursor}
        return [found.get(key) for key in ids]

    # aggregation ---------------------------------------------------------------------------

    async def aggregate(
        self, where: Expr, stages: Sequence[dict[str, Any]], *, batch_size: int | None = None
    ) -> list[dict[str, Any]]:
        """Run ``stages`` after the scoped ``$match`` of ``where``, always the first stage."""
        return await self._pipeline([{"$match": await self.job_filter(where)}, *stages], batch_size)

    async def _pipeline(
        self, pipeline: list[dict[str, Any]], batch_size: int | None = None
    ) -> list[dict[str, Any]]:
        options: dict[str, Any] = {"allowDiskUse": self._aggregation.allow_disk_use}
        if batch_size:
            options["batchSize"] = batch_size
        async with self._command(pipeline=True) as max_time_ms:
            options["maxTimeMS"] = max_time_ms
            cursor = self._jobs.aggregate(pipeline, **options)
            documents: list[dict[str, Any]] = await cursor.to_list(length=None)
            return documents

    async def statistics(self, spec: StatsSpec) -> StatsResult:
        """One pipeline for the rows and, when paged, one count of every row (concurrently)."""
        limits = self._aggregation
        plan = compile_statistics(spec, StatsLimits(limits.max_stages, limits.max_rows))
        match = {"$match": await self.job_filter(spec.where)}
        documents, counted = await concurrently(
            self._pipeline([match, *plan.rows_pipeline(limits.max_rows)], limits.max_rows + 1),
            self._pipeline([match, *plan.count_pipeline()], 1) if plan.page else None,
        )
        if len(documents) > limits.max_rows:
            raise QueryTooComplex(
                f"the statistics query gives more than {limits.max_rows} rows "
                "(GATEWAY_STATS_MAX_ROWS); add a group, a limit or a page"
            )
        # On MongoDB, $count of nothing gives no row at all.
        total = int(counted[0].get("total_count") or 0) if counted else 0
        return StatsResult(plan.rows(documents), total if plan.page else None)

    async def summary(self, where: Expr) -> Summary:
        rows = await self.aggregate(where, summary_pipeline(), batch_size=1)
        return read_summary(rows[0] if rows else None)  # MongoDB: no row when nothing matched

    async def timeline(
        self,
        where: Expr,
        field: str,
        interval: str,
        zone: ZoneInfo,
        start: datetime | None,
        end: datetime | None,
    ) -> list[TimelineBucket]:
        """Counts per bucket and status; an open end is taken from the first/last job."""
        check_range(start, end)
        path = resolve_job_field(field).path
        if start is None or end is None:
            first, last = await self._date_range(_within(where, field, start, end), path)
            if first is None or last is None:
                return []
            start, end = start or first, end or last
            if naive_utc(start) > naive_utc(end):
                return []
        bounds = bucket_starts(start, end, interval, zone, self._aggregation.max_timeline_buckets)
        rows = await self.aggregate(_within(where, field, start, end), timeline_pipeline(path, bounds))
        return read_timeline(bounds, rows)

    async def _date_range(self, where: Expr, path: str) -> tuple[datetime | None, datetime | None]:
        stages = [{"$group": {"_id": None, "first": {"$min": "$" + path}, "last": {"$max": "$" + path}}}]
        rows = await self.aggregate(where, stages, batch_size=1)
        row = rows[0] if rows else {}
        first, last = row.get("first"), row.get("last")
        if not isinstance(first, datetime) or not isinstance(last, datetime):
            return None, None
        return first, last


UPDATE_ORDER: tuple[tuple[str, int], ...] = (("updated_at", 1), ("_id", 1))
"""The order polling walks: a job updated again moves to the end."""

CHANGE_KINDS = ("insert", "update", "replace", "delete")
EVENT_INDEX = "__gateway_event"
"""Field naming each document of a ``$documents`` match (job documents never have it)."""


class JobChangeStream:
    """The change stream of the ``job`` collection, for every domain at once: the one read
    that is not bound to a domain, so that a process holds one stream, not one per subscriber.
    ``gateway.live`` scopes every event to its document's domain before any subscriber sees it.
    """

    # how long the server holds an empty getMore: it answers as soon as a change arrives, so a
    # longer wait costs no latency, only fewer idle round trips
    def __init__(self, database: Any, *, max_await_ms: int = 1000) -> None:
        self._jobs = database[JOB_COLLECTION]
        self._max_await_ms = max_await_ms

    async def server_identity(self) -> tuple[str, str] | None:
        """The answering server's address and process id (``hello``); a new process id at the
        same address means the server restarted (possibly without its change history)."""
        with change_stream_errors(resuming=True):
            hello = await self._jobs.database.command("hello")
        process = (hello.get("topologyVersion") or {}).get("processId")
        if process is None:
            return None
        return str(hello.get("me") or ""), str(process)

    async def open(self, resume_after: Mapping[str, Any] | None = None) -> ChangeCursor:
        """Open the stream (after ``resume_after`` when given) and check the server accepts it:
        raises ``ChangeStreamsUnsupported``, ``ResyncRequired`` or ``ServiceUnavailable``."""
        resuming = resume_after is not None
        with change_stream_errors(resuming=resuming):
            stream = self._jobs.watch(
                [{"$match": {"operationType": {"$in": list(CHANGE_KINDS)}}}],
                full_document="updateLookup",
                resume_after=resume_after,
                max_await_time_ms=self._max_await_ms,
            )
            cursor = ChangeCursor(stream)
            cursor.pending = await stream.try_next()  # sends the aggregate: fails here if it must
        return cursor


class ChangeCursor:
    """An open change stream; :meth:`next` waits for the next change event."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.pending: dict[str, Any] | None = None

    async def next(self) -> dict[str, Any]:
        if self.pending is not None:
            ready, self.pending = self.pending, None
            return ready
        with change_stream_errors(resuming=True):
            change: dict[str, Any] = await self._stream.next()
            return change

    async def try_next(self) -> dict[str, Any] | None:
        """The next change if one is ready (one round trip), else None."""
        if self.pending is not None:
            change, self.pending = self.pending, None
            return change
        with change_stream_errors(resuming=True):
            found: dict[str, Any] | None = await self._stream.try_next()
            return found

    @property
    def resume_token(self) -> Mapping[str, Any] | None:
        token: Mapping[str, Any] | None = self._stream.resume_token
        return token

    async def close(self) -> None:
        await self._stream.close()


def _within(where: Expr, field: str, start: datetime | None, end: datetime | None) -> Expr:
    bounds = [Condition(field, "gte", naive_utc(start).isoformat())] if start else []
    bounds += [Condition(field, "lte", naive_utc(end).isoformat())] if end else []
    return All((where, *bounds)) if bounds else where


async def concurrently(*calls: Awaitable[Any] | None) -> list[Any]:
    """The values of ``calls`` run concurrently (``None``: nothing to run, its value is None).
    Each call runs as a task even when it is the only one: loaders batch the loads of every
    root field because each root's reads yield to the loop alike."""
    values = iter(await asyncio.gather(*(call for call in calls if call is not None)))
    return [None if call is None else next(values) for call in calls]
