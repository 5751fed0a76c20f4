"""GraphQL enums, each value described from the SpaceONE spec."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="The state of a power-scheduler job.")
class JobStatus(Enum):
    NONE = strawberry.enum_value(
        "NONE", description="No state. As a `jobs` argument: no status filter (JOB_STATE_NONE)."
    )
    CREATED = strawberry.enum_value("CREATED", description="Created, not yet started.")
    CANCELED = strawberry.enum_value("CANCELED", description="Canceled before it finished.")
    IN_PROGRESS = strawberry.enum_value("IN_PROGRESS", description="Its tasks are running.")
    SUCCESS = strawberry.enum_value("SUCCESS", description="Every task finished successfully.")
    ERROR = strawberry.enum_value("ERROR", description="Finished with errors (see `errors`).")
    TIMEOUT = strawberry.enum_value("TIMEOUT", description="Did not finish in time.")


def job_status(stored: object) -> JobStatus:
    """A stored status string → the enum (an unknown value reads as NONE, never an error)."""
    if isinstance(stored, str):
        return _STATUS_BY_VALUE.get(stored, JobStatus.NONE)
    return JobStatus.NONE


_STATUS_BY_VALUE: dict[object, JobStatus] = {status.value: status for status in JobStatus}


@strawberry.enum(description="A SpaceONE filter operator (`o` of a condition).")
class FilterOperator(Enum):
    EQ = strawberry.enum_value("eq", description="Equal to `v` (a scalar or null).")
    NOT = strawberry.enum_value("not", description="Not equal to `v` (a scalar or null).")
    EXISTS = strawberry.enum_value(
        "exists",
        description="The field is present (`v: true`) or absent (`v: false`); "
        "an explicit null counts as present.",
    )
    CONTAIN = strawberry.enum_value("contain", description="Contains the text `v`, case-insensitive.")
    NOT_CONTAIN = strawberry.enum_value(
        "not_contain", description="Does not contain the text `v` (also matches missing or null)."
    )
    IN = strawberry.enum_value("in", description="Equal to one of the list `v`.")
    NOT_IN = strawberry.enum_value("not_in", description="Equal to none of the list `v`.")
    CONTAIN_IN = strawberry.enum_value(
        "contain_in", description="Contains at least one of the texts in the list `v`."
    )
    NOT_CONTAIN_IN = strawberry.enum_value(
        "not_contain_in", description="Contains none of the texts in the list `v`."
    )
    MATCH = strawberry.enum_value(
        "match", description="An element of the array field matches every field of the object `v`."
    )
    REGEX = strawberry.enum_value("regex", description="Matches the regular expression `v`, case-insensitive.")
    REGEX_IN = strawberry.enum_value(
        "regex_in", description="Matches at least one of the regular expressions in the list `v`."
    )
    GT = strawberry.enum_value("gt", description="Greater than `v` (coerced to the field's type).")
    GTE = strawberry.enum_value("gte", description="Greater than or equal to `v`.")
    LT = strawberry.enum_value("lt", description="Less than `v` (coerced to the field's type).")
    LTE = strawberry.enum_value("lte", description="Less than or equal to `v`.")
    DATETIME_GT = strawberry.enum_value("datetime_gt", description="After the ISO-8601 date `v`.")
    DATETIME_GTE = strawberry.enum_value("datetime_gte", description="At or after the ISO-8601 date `v`.")
    DATETIME_LT = strawberry.enum_value("datetime_lt", description="Before the ISO-8601 date `v`.")
    DATETIME_LTE = strawberry.enum_value("datetime_lte", description="At or before the ISO-8601 date `v`.")
    TIMEDIFF_GT = strawberry.enum_value(
        "timediff_gt",
        description="After the instant `v`: `now`, `now/d`, `now/w` or `now/m`, optionally "
        "`+`/`-` N with unit s, m, h, d or w (e.g. `now/d - 7d`), UTC.",
    )
    TIMEDIFF_GTE = strawberry.enum_value(
        "timediff_gte", description="At or after the relative instant `v` (see TIMEDIFF_GT)."
    )
    TIMEDIFF_LT = strawberry.enum_value(
        "timediff_lt", description="Before the relative instant `v` (see TIMEDIFF_GT)."
    )
    TIMEDIFF_LTE = strawberry.enum_value(
        "timediff_lte", description="At or before the relative instant `v` (see TIMEDIFF_GT)."
    )


@strawberry.enum(description="A direction of ordering.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest first; null values come first.")
    DESC = strawberry.enum_value("DESC", description="Largest first; null values come last.")


@strawberry.enum(description="A job field that connections can be ordered by.")
class JobOrderField(Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="By `createdAt`.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="By `updatedAt`.")
    FINISHED_AT = strawberry.enum_value(
        "finished_at", description="By `finishedAt`; unfinished jobs (null) sort as the lowest value."
    )
    STATUS = strawberry.enum_value(
        "status", description="By `status`, alphabetically as stored (CANCELED, CREATED, ERROR, …)."
    )
    TOTAL_TASKS = strawberry.enum_value("total_tasks", description="By `totalTasks`.")
    REMAINED_TASKS = strawberry.enum_value("remained_tasks", description="By `remainedTasks`.")
    JOB_ID = strawberry.enum_value("job_id", description="By `jobId`.")
