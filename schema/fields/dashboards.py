"""Typed dashboard queries: ``jobSummary`` and ``jobTimeline`` (thin resolvers)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from gateway.mongo.dashboards import Summary, TimelineBucket, time_zone
from schema.fields.listing import DOMAIN_ID, GatewayInfo
from schema.types.cost import PAGE_SIZE, ListSize
from schema.types.enums import JobStatus
from schema.types.filters import JobFilter, job_filter_expr


@strawberry.enum(description="Length of a timeline bucket, aligned in the requested time zone.")
class TimeInterval(Enum):
    HOUR = strawberry.enum_value("HOUR", description="One hour.")
    DAY = strawberry.enum_value("DAY", description="One day, from local midnight.")
    WEEK = strawberry.enum_value("WEEK", description="One week, from Monday local midnight.")
    MONTH = strawberry.enum_value("MONTH", description="One calendar month, from the 1st.")


@strawberry.enum(description="The date a timeline counts jobs by.")
class JobTimeField(Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="When the job was created.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="When the job last changed.")
    FINISHED_AT = strawberry.enum_value(
        "finished_at", description="When the job finished (unfinished jobs are not counted)."
    )


@strawberry.type(description="Number of jobs with one status.")
class StatusCount:
    status: JobStatus = strawberry.field(description="The status.")
    count: int = strawberry.field(description="Jobs with that status.")


@strawberry.type(description="Totals over the jobs matching a filter.")
class JobSummary:
    total_count: int = strawberry.field(description="Jobs matching the filter.")
    by_status: list[StatusCount] = strawberry.field(
        directives=[ListSize(assumed_size=len(JobStatus))],
        description="Jobs per status; every status except NONE, zeros included.",
    )
    total_tasks: int = strawberry.field(description="Sum of `totalTasks`.")
    remained_tasks: int = strawberry.field(description="Sum of `remainedTasks`.")
    jobs_with_errors: int = strawberry.field(description="Jobs with at least one error.")
    success_rate: float | None = strawberry.field(
        description="SUCCESS jobs / finished jobs (SUCCESS, ERROR, TIMEOUT or CANCELED with "
        "`finishedAt` set), from 0 to 1; null when none finished."
    )
    average_duration_seconds: float | None = strawberry.field(
        description="Mean of `finishedAt - createdAt` over finished jobs; null when none finished."
    )


@strawberry.type(description="Jobs in one time bucket.")
class JobTimeBucket:
    start: datetime = strawberry.field(description="Start of the bucket (UTC instant).")
    count: int = strawberry.field(description="Jobs whose date falls in the bucket.")
    by_status: list[StatusCount] = strawberry.field(
        directives=[ListSize(assumed_size=len(JobStatus))],
        description="Jobs per status; every status except NONE, zeros included.",
    )


def _by_status(counts: dict[str, int]) -> list[StatusCount]:
    return [StatusCount(status=JobStatus(name), count=count) for name, count in counts.items()]


def _summary(summary: Summary) -> JobSummary:
    return JobSummary(
        total_count=summary.total_count,
        by_status=_by_status(summary.by_status),
        total_tasks=summary.total_tasks,
        remained_tasks=summary.remained_tasks,
        jobs_with_errors=summary.jobs_with_errors,
        success_rate=summary.success_rate,
        average_duration_seconds=summary.average_duration_seconds,
    )


def _bucket(bucket: TimelineBucket) -> JobTimeBucket:
    return JobTimeBucket(start=bucket.start, count=bucket.count, by_status=_by_status(bucket.by_status))


FILTER = strawberry.argument(description="Only jobs matching this filter (all jobs when omitted).")


async def resolve_job_summary(
    info: GatewayInfo,
    filter: Annotated[JobFilter | None, FILTER] = None,
    domain_id: Annotated[str | None, DOMAIN_ID] = None,
) -> JobSummary:
    scope = info.context.scope(domain_id)
    return _summary(await scope.repository.summary(job_filter_expr(filter)))


async def resolve_job_timeline(
    info: GatewayInfo,
    *,
    filter: Annotated[JobFilter | None, FILTER] = None,
    field: Annotated[
        JobTimeField | None,
        strawberry.argument(description="The date jobs are counted by (null: CREATED_AT)."),
    ] = JobTimeField.CREATED_AT,
    interval: Annotated[TimeInterval, strawberry.argument(description="Bucket length.")],
    from_: Annotated[
        datetime | None,
        strawberry.argument(
            name="from",
            description="First instant counted (default: the "
            "earliest job); the first bucket is the one holding it.",
        ),
    ] = None,
    to: Annotated[
        datetime | None,
        strawberry.argument(
            description="Last instant counted, inclusive (default: the latest "
            "job); `from` after `to` is refused."
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        strawberry.argument(description="IANA time zone the buckets are aligned in (null: UTC)."),
    ] = "UTC",
    domain_id: Annotated[str | None, DOMAIN_ID] = None,
) -> list[JobTimeBucket]:
    zone = time_zone(timezone or "UTC")
    scope = info.context.scope(domain_id)
    buckets = await scope.repository.timeline(
        job_filter_expr(filter),
        str((field or JobTimeField.CREATED_AT).value),
        str(interval.value),
        zone,
        from_,
        to,
    )
    info.context.count_returned_rows(len(buckets))
    return [_bucket(bucket) for bucket in buckets]


@strawberry.type
class DashboardQueries:
    job_summary: JobSummary = strawberry.field(
        resolver=resolve_job_summary,
        description="Totals over the domain's jobs for dashboards, in one aggregation.",
    )
    job_timeline: list[JobTimeBucket] = strawberry.field(
        resolver=resolve_job_timeline,
        directives=[ListSize(assumed_size=PAGE_SIZE)],
        description="Jobs per time bucket and status: contiguous buckets (empty ones included) "
        "aligned to the interval in `timezone`, at most GATEWAY_TIMELINE_MAX_BUCKETS of them.",
    )
