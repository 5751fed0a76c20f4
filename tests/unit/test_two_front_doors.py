"""A JobFilter and the equivalent SpaceONE query compile to the same MongoDB filter."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.mongo.query import QueryLimits, compile_filter
from gateway.settings import Settings
from schema.fields.convert import search_where
from schema.types.enums import FilterOperator, JobStatus
from schema.types.filters import (
    DateTimeFilter,
    IntFilter,
    JobFilter,
    JobStatusFilter,
    StringFilter,
    job_filter_expr,
)
from schema.types.inputs import FilterCondition, SearchQuery

LIMITS = QueryLimits.from_settings(Settings())


def test_field_filters_compile_like_search_conditions() -> None:
    typed = JobFilter(
        status=JobStatusFilter(in_=[JobStatus.ERROR, JobStatus.TIMEOUT]),
        total_tasks=IntFilter(gt=3),
        created_at=DateTimeFilter(gte=datetime(2026, 9, 1, tzinfo=UTC)),
        job_id=StringFilter(contains="a.b"),
        controller_id=StringFilter(eq="controller-1"),
    )
    spaceone = SearchQuery(
        filter=[  # in the order JobFilter lists its fields
            FilterCondition(k="job_id", v="a.b", o=FilterOperator.CONTAIN),
            FilterCondition(k="status", v=["ERROR", "TIMEOUT"], o=FilterOperator.IN),
            FilterCondition(k="controller_id", v="controller-1", o=FilterOperator.EQ),
            FilterCondition(k="total_tasks", v=3, o=FilterOperator.GT),
            FilterCondition(k="created_at", v="2026-09-01T00:00:00Z", o=FilterOperator.DATETIME_GTE),
        ]
    )
    one, two = compile_filter(job_filter_expr(typed), LIMITS), compile_filter(search_where(spaceone), LIMITS)
    assert one.filter == two.filter
    assert one.controller_filters == two.controller_filters == [{"controller_id": "controller-1"}]
