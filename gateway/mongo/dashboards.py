"""Pipelines of the typed dashboard queries (``jobSummary``, ``jobTimeline``) and the reading of
their rows. Pure: no I/O. Every operator used here works on MongoDB 5.0+ and on both stand-ins.

Finished jobs: status SUCCESS, ERROR, TIMEOUT or CANCELED *and* ``finished_at`` set. The success
rate is SUCCESS / finished, the average duration is ``finished_at - created_at`` over finished
jobs that have a ``created_at``.

Timeline buckets are computed here (``zoneinfo``), not by the server: their boundaries are the
local interval starts in the requested zone, converted to UTC, and the pipeline is one ``$match``
on the range plus one ``$bucket`` on those boundaries, so the server returns at most one row per
non-empty bucket.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.errors import InvalidParameter, QueryTooComplex
from gateway.mongo.fields import FINISHED_STATUSES, JOB_STATUSES

Stage = dict[str, Any]

# summary --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    total_count: int
    by_status: dict[str, int]
    total_tasks: int
    remained_tasks: int
    jobs_with_errors: int
    success_rate: float | None
    average_duration_seconds: float | None


def _count_if(condition: Any) -> Any:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _status(name: str) -> str:
    return f"status_{name}"


_FINISHED = {"$and": [{"$in": ["$status", list(FINISHED_STATUSES)]}, {"$gt": ["$finished_at", None]}]}
_TIMED = {"$and": [_FINISHED, {"$gt": ["$created_at", None]}]}


def summary_pipeline() -> list[Stage]:
    """One ``$group`` over the (already matched) jobs."""
    return [
        {
            "$group": {
                "_id": None,
                "total": {"$sum": 1},
                **{_status(s): _count_if({"$eq": ["$status", s]}) for s in JOB_STATUSES},
                "total_tasks": {"$sum": "$total_tasks"},
                "remained_tasks": {"$sum": "$remained_tasks"},
                "with_errors": _count_if({"$gt": [{"$size": {"$ifNull": ["$errors", []]}}, 0]}),
                "finished": _count_if(_FINISHED),
                "succeeded": _count_if({"$and": [_FINISHED, {"$eq": ["$status", "SUCCESS"]}]}),
                "timed": _count_if(_TIMED),
                "duration_ms": {"$sum": {"$cond": [_TIMED, {"$subtract": ["$finished_at", "$created_at"]}, 0]}},
            }
        }
    ]


def read_summary(row: Mapping[str, Any] | None) -> Summary:
    """The summary from the group row (no row at all: an empty domain or filter)."""
    row = row or {}

    def number(key: str) -> int:
        return int(row.get(key) or 0)

    finished, timed = number("finished"), number("timed")
    return Summary(
        total_count=number("total"),
        by_status={s: number(_status(s)) for s in JOB_STATUSES},
        total_tasks=number("total_tasks"),
        remained_tasks=number("remained_tasks"),
        jobs_with_errors=number("with_errors"),
        success_rate=number("succeeded") / finished if finished else None,
        average_duration_seconds=(float(row.get("duration_ms") or 0) / timed / 1000.0 if timed else None),
    )


# timeline -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineBucket:
    start: datetime  # aware, UTC
    count: int
    by_status: dict[str, int]


def time_zone(name: str) -> ZoneInfo:
    """An IANA zone by name; an unknown or malformed name is a client error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidParameter(
            f"'timezone' {name!r} is not a known IANA time zone "
            "(for example 'UTC', 'Asia/Seoul', 'America/New_York')"
        ) from None


def check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and _utc(start) > _utc(end):
        raise InvalidParameter("'from' is after 'to'")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _floor(instant: datetime, interval: str, zone: ZoneInfo) -> datetime:
    local = _utc(instant).astimezone(zone)
    if interval == "HOUR":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    day = local.date()
    if interval == "WEEK":
        day -= timedelta(days=day.weekday())
    elif interval == "MONTH":
        day = day.replace(day=1)
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _next(start: datetime, interval: str, zone: ZoneInfo) -> datetime:
    if interval == "HOUR":
        return start + timedelta(hours=1)
    local = start.astimezone(zone).date()
    if interval == "MONTH":
        year, month = divmod(local.month, 12)
        following = local.replace(year=local.year + year, month=month + 1, day=1)
    else:
        following = local + timedelta(days=7 if interval == "WEEK" else 1)
    return datetime(following.year, following.month, following.day, tzinfo=zone).astimezone(UTC)


def _starts(first: datetime, interval: str, zone: ZoneInfo) -> Iterator[datetime]:
    start = _floor(first, interval, zone)
    while True:
        yield start
        start = _next(start, interval, zone)


def bucket_starts(
    first: datetime, last: datetime, interval: str, zone: ZoneInfo, max_buckets: int
) -> list[datetime]:
    """Aware UTC starts of every bucket from the one holding ``first`` to the one holding
    ``last``, plus the end of the last bucket; refuses more than ``max_buckets`` buckets."""
    last = _utc(last)
    bounds: list[datetime] = []
    try:
        for start in _starts(first, interval, zone):
            bounds.append(start)
            if start > last:
                return bounds
            if len(bounds) > max_buckets:
                raise QueryTooComplex(
                    f"the timeline would have more than {max_buckets} buckets "
                    "(GATEWAY_TIMELINE_MAX_BUCKETS); narrow 'from'/'to' or use a longer interval"
                )
    except OverflowError:  # the bucket after the last one would end past year 9999
        raise InvalidParameter(
            "the timeline's last bucket would end after the year 9999; give an earlier 'to'"
        ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def timeline_pipeline(path: str, bounds: Sequence[datetime]) -> list[Stage]:
    """One ``$bucket`` on the stored (naive UTC) dates; the matched range lies within ``bounds``."""
    return [
        {
            "$bucket": {
                "groupBy": "$" + path,
                "boundaries": [naive_utc(bound) for bound in bounds],
                "default": "outside",  # never used: the range $match keeps documents inside
                "output": {
                    "count": {"$sum": 1},
                    **{_status(s): _count_if({"$eq": ["$status", s]}) for s in JOB_STATUSES},
                },
            }
        }
    ]


def naive_utc(value: datetime) -> datetime:
    """An instant as dates are stored: UTC without a zone (a naive value is taken as UTC)."""
    return _utc(value).replace(tzinfo=None)


def read_timeline(bounds: Sequence[datetime], rows: Sequence[Mapping[str, Any]]) -> list[TimelineBucket]:
    """Every bucket in order, empty ones with zero counts."""
    by_start = {_utc(row["_id"]): row for row in rows if isinstance(row.get("_id"), datetime)}
    buckets = []
    for start in bounds[:-1]:
        row = by_start.get(start, {})
        buckets.append(
            TimelineBucket(
                start=start,
                count=int(row.get("count") or 0),
                by_status={s: int(row.get(_status(s)) or 0) for s in JOB_STATUSES},
            )
        )
    return buckets
