"""The pure statistics compiler: what the pipeline looks like, and what it refuses."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from gateway.errors import InvalidParameter, QueryError, QueryTooComplex, RequiredParameter
from gateway.mongo.dashboards import bucket_starts, time_zone
from gateway.mongo.expr import Condition, SortKey
from gateway.mongo.stats import (
    Count,
    Group,
    GroupField,
    GroupKey,
    Limit,
    Operand,
    Project,
    ProjectField,
    Sort,
    StatsLimits,
    StatsSpec,
    Unwind,
    compile_statistics,
)
from gateway.settings import Settings

COUNT_BY_STATUS = Group((GroupKey("status", "status"),), (GroupField("n", "count"),))
LIMITS = StatsLimits.from_settings(Settings())


def stages(*aggregate: object) -> list[dict[str, object]]:
    return compile_statistics(StatsSpec(aggregate=aggregate), LIMITS).stages  # type: ignore[arg-type]


def test_the_spec_example_compiles_to_group_then_sort_on_the_output_name() -> None:
    compiled = stages(COUNT_BY_STATUS, Sort((SortKey("n", desc=True), SortKey("status"))))
    assert compiled == [
        {"$group": {"_id": {"status": "$status"}, "n": {"$sum": 1}}},
        {"$sort": {"n": -1, "_id.status": 1, "_id": 1}},
    ]


def test_client_names_resolve_through_the_catalogue() -> None:
    compiled = stages(Group((GroupKey("filter.region", "region"), GroupKey("scheduleId", "schedule")), ()))
    assert compiled[0]["$group"]["_id"] == {"region": "$filters.region", "schedule": "$schedule_id"}


def test_a_path_through_errors_is_a_map_unless_unwound() -> None:
    key = GroupKey("errors.error_code", "code")
    assert stages(Group((key,), ()))[0]["$group"]["_id"]["code"] == {
        "$map": {"input": "$errors", "as": "item", "in": "$$item.error_code"}
    }
    assert stages(Unwind("errors"), Group((key,), ()))[1]["$group"]["_id"]["code"] == ("$errors.error_code")


def test_condition_values_are_literals_and_dates_are_parsed() -> None:
    field = GroupField(
        "n",
        "count",
        conditions=(
            Condition("status", "eq", "$domain_id"),
            Condition("created_at", "gte", "2026-09-01"),
        ),
    )
    accumulator = stages(Group((), (field,)))[0]["$group"]["n"]
    assert accumulator == {
        "$sum": {
            "$cond": [
                {
                    "$and": [
                        {"$eq": ["$status", {"$literal": "$domain_id"}]},
                        {"$gte": ["$created_at", {"$literal": datetime(2026, 9, 1)}]},
                    ]
                },
                1,
                0,
            ]
        }
    }


def test_a_field_divisor_is_guarded_and_a_zero_literal_refused() -> None:
    divide = ProjectField("r", "n", "divide", (Operand(key="n"),))
    project = stages(COUNT_BY_STATUS, Project((divide,)))[1]["$project"]
    assert project["r"] == {"$cond": [{"$eq": ["$n", 0]}, None, {"$divide": ["$n", "$n"]}]}
    with pytest.raises(InvalidParameter, match="division by zero"):
        stages(COUNT_BY_STATUS, Project((ProjectField("r", "n", "divide", (Operand(value=0),)),)))


def test_count_yields_one_row_even_on_empty_input() -> None:
    assert stages(Count("n")) == [
        {"$facet": {"rows": [{"$count": "n"}]}},
        {"$replaceRoot": {"newRoot": {"$ifNull": [{"$arrayElemAt": ["$rows", 0]}, {"n": 0}]}}},
    ]


def test_raw_job_rows_drop_internal_fields() -> None:
    assert stages(Limit(3))[-1] == {"$project": {"_id": 0, "mark_error": 0, "controller": 0}}


def test_page_and_row_cap_come_last_and_the_count_has_no_page() -> None:
    plan = compile_statistics(StatsSpec(aggregate=(COUNT_BY_STATUS,), page=(3, 10)), LIMITS)
    assert plan.rows_pipeline(100)[-3:] == [{"$skip": 2}, {"$limit": 10}, {"$limit": 101}]
    assert plan.count_pipeline()[-1] == {"$count": "total_count"}
    assert plan.rows(
        [{"_id": {"status": "A"}, "n": 2}, {"_id": {"status": None}, "n": 3}, {"_id": {}, "n": 1}]
    ) == [
        {"status": "A", "n": 2},
        {"status": None, "n": 3},
        {"n": 1},  # a missing key stays missing
    ]


@pytest.mark.parametrize(
    ("spec", "error", "named"),
    [
        (StatsSpec(), RequiredParameter, "aggregate"),
        (StatsSpec(aggregate=(Group(),)), RequiredParameter, "aggregate[0].group"),
        (StatsSpec(aggregate=(Group((GroupKey("status", "$s"),)),)), InvalidParameter, "$s"),
        (StatsSpec(aggregate=(Group((GroupKey("status", "_id"),)),)), InvalidParameter, "_id"),
        (StatsSpec(aggregate=(Group((), (GroupField("n", "function"),)),)), QueryError, "function"),
        (StatsSpec(aggregate=(Group((), (GroupField("n", "max", "mark_error"),)),)), QueryError, "mark_error"),
        (StatsSpec(aggregate=(Group((), (GroupField("n", "max", "$$ROOT"),)),)), QueryError, "$$ROOT"),
        (
            StatsSpec(aggregate=(COUNT_BY_STATUS, Project((ProjectField("x", "n", "eval"),)))),
            QueryError,
            "eval",
        ),
        (StatsSpec(aggregate=(Unwind("status"),)), InvalidParameter, "array"),
        (StatsSpec(aggregate=(Limit(1),) * 21), QueryTooComplex, "21 stages"),
        (StatsSpec(aggregate=(COUNT_BY_STATUS, Sort((SortKey("total_tasks"),)))), QueryError, "total_tasks"),
    ],
)
def test_bad_input_is_refused_naming_the_key(spec: StatsSpec, error: type[Exception], named: str) -> None:
    with pytest.raises(error, match=re.escape(named)):
        compile_statistics(spec, LIMITS)


def test_no_pipeline_ever_holds_a_forbidden_operator() -> None:
    spec = StatsSpec(
        aggregate=(
            Unwind("errors"),
            COUNT_BY_STATUS,
            Sort((SortKey("n"),)),
            Count("c"),
        )
    )
    text = json.dumps(compile_statistics(spec, LIMITS).stages)
    for operator in ("$lookup", "$out", "$merge", "$where", "$function", "$accumulator"):
        assert operator not in text


def test_bucket_starts_follow_local_midnight_and_stop_at_the_cap() -> None:
    seoul = time_zone("Asia/Seoul")
    starts = bucket_starts(
        datetime(2026, 3, 1, 16, tzinfo=UTC), datetime(2026, 3, 2, 14, tzinfo=UTC), "DAY", seoul, 10
    )
    assert starts == [datetime(2026, 3, 1, 15, tzinfo=UTC), datetime(2026, 3, 2, 15, tzinfo=UTC)]
    with pytest.raises(QueryTooComplex):
        bucket_starts(datetime(2026, 1, 1), datetime(2026, 1, 2), "HOUR", seoul, 24)
    assert (
        len(bucket_starts(datetime(2026, 1, 1), datetime(2026, 1, 1, 23, 59), "HOUR", time_zone("UTC"), 24))
        == 25
    )
