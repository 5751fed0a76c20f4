"""Typed filters for frontends (``JobFilter``) and their translation to the neutral query form.

The same compiler serves ``SearchQuery`` and ``JobFilter``: this module only builds conditions.
A field filter given as null, or an operator given as null, is ignored; sibling fields are ANDed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from gateway.mongo.expr import All, AnyOf, Condition, Expr, Not, keyword_expr
from schema.types.enums import JobStatus

_NULL = "A null or missing value (true), or a present non-null one (false)."


@strawberry.input(description="Conditions on a text field; every operator given must hold.")
class StringFilter:
    eq: str | None = strawberry.field(default=None, description="Equal to.")
    ne: str | None = strawberry.field(default=None, description="Not equal to.")
    in_: list[str] | None = strawberry.field(default=None, name="in", description="One of.")
    nin: list[str] | None = strawberry.field(default=None, description="None of.")
    contains: str | None = strawberry.field(default=None, description="Contains the text, case-insensitive.")
    starts_with: str | None = strawberry.field(
        default=None, description="Starts with the text, case-insensitive."
    )
    exists: bool | None = strawberry.field(
        default=None, description="The field is present (an explicit null counts as present)."
    )
    is_null: bool | None = strawberry.field(default=None, description=_NULL)


@strawberry.input(description="Conditions on a whole-number field; every operator given must hold.")
class IntFilter:
    eq: int | None = strawberry.field(default=None, description="Equal to.")
    ne: int | None = strawberry.field(default=None, description="Not equal to.")
    gt: int | None = strawberry.field(default=None, description="Greater than.")
    gte: int | None = strawberry.field(default=None, description="Greater than or equal to.")
    lt: int | None = strawberry.field(default=None, description="Less than.")
    lte: int | None = strawberry.field(default=None, description="Less than or equal to.")
    in_: list[int] | None = strawberry.field(default=None, name="in", description="One of.")


@strawberry.input(description="Conditions on a date field; every operator given must hold.")
class DateTimeFilter:
    eq: datetime | None = strawberry.field(default=None, description="At exactly this instant.")
    gt: datetime | None = strawberry.field(default=None, description="After.")
    gte: datetime | None = strawberry.field(default=None, description="At or after.")
    lt: datetime | None = strawberry.field(default=None, description="Before.")
    lte: datetime | None = strawberry.field(default=None, description="At or before.")
    exists: bool | None = strawberry.field(
        default=None, description="The field is present (an explicit null counts as present)."
    )
    is_null: bool | None = strawberry.field(default=None, description=_NULL)


@strawberry.input(description="Conditions on the job status; every operator given must hold.")
class JobStatusFilter:
    eq: JobStatus | None = strawberry.field(default=None, description="Equal to.")
    ne: JobStatus | None = strawberry.field(default=None, description="Not equal to.")
    in_: list[JobStatus] | None = strawberry.field(default=None, name="in", description="One of.")
    nin: list[JobStatus] | None = strawberry.field(default=None, description="None of.")


@strawberry.input(
    description="A typed job filter. Sibling fields are ANDed; `and`, `or` and `not` nest. "
    "An empty filter matches every job of the domain."
)
class JobFilter:
    job_id: StringFilter | None = strawberry.field(default=None, description="On `jobId`.")
    status: JobStatusFilter | None = strawberry.field(default=None, description="On `status`.")
    schedule_id: StringFilter | None = strawberry.field(
        default=None, description="On the schedule that started the job."
    )
    project_id: StringFilter | None = strawberry.field(default=None, description="On `projectId`.")
    controller_id: StringFilter | None = strawberry.field(
        default=None,
        description="On the `controllerId` of the job's controller (looked up among the "
        "caller's controllers, like SpaceONE's `controller_id`).",
    )
    total_tasks: IntFilter | None = strawberry.field(default=None, description="On `totalTasks`.")
    remained_tasks: IntFilter | None = strawberry.field(default=None, description="On `remainedTasks`.")
    created_at: DateTimeFilter | None = strawberry.field(default=None, description="On `createdAt`.")
    updated_at: DateTimeFilter | None = strawberry.field(default=None, description="On `updatedAt`.")
    finished_at: DateTimeFilter | None = strawberry.field(default=None, description="On `finishedAt`.")
    error_code: StringFilter | None = strawberry.field(
        default=None, description="On the `errorCode` of any of the job's errors."
    )
    has_errors: bool | None = strawberry.field(
        default=None, description="The job has at least one error (true) or none (false)."
    )
    keyword: str | None = strawberry.field(
        default=None,
        description="Words (split on the space character); matches when `jobId` contains any of them.",
    )
    and_: list[JobFilter] | None = strawberry.field(
        default=None, name="and", description="Every one of these filters holds."
    )
    or_: list[JobFilter] | None = strawberry.field(
        default=None, name="or", description="At least one of these filters holds."
    )
    not_: JobFilter | None = strawberry.field(
        default=None, name="not", description="This filter does not hold."
    )


# operator attribute → SpaceONE operator of the neutral form
_OPERATORS = {
    "eq": "eq",
    "ne": "not",
    "in_": "in",
    "nin": "not_in",
    "contains": "contain",
    "starts_with": "starts_with",
    "exists": "exists",
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
}
# JobFilter attribute → API field name
_FIELDS = {
    "job_id": "job_id",
    "status": "status",
    "schedule_id": "schedule_id",
    "project_id": "project_id",
    "controller_id": "controller_id",
    "total_tasks": "total_tasks",
    "remained_tasks": "remained_tasks",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "finished_at": "finished_at",
    "error_code": "errors.error_code",
}


def _plain(value: Any) -> Any:
    if isinstance(value, JobStatus):
        return value.value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def field_conditions(key: str, field_filter: Any) -> list[Expr]:
    conditions: list[Expr] = []
    for attribute, operator in _OPERATORS.items():
        value = getattr(field_filter, attribute, None)
        if value is not None:
            conditions.append(Condition(key, operator, _plain(value)))
    is_null = getattr(field_filter, "is_null", None)
    if is_null is not None:
        conditions.append(Condition(key, "eq" if is_null else "not", None))
    return conditions


def job_filter_expr(job_filter: JobFilter | None) -> Expr:
    """``JobFilter`` → neutral expression (``All()`` matches everything). Redundant levels are
    folded (an ``and`` inside an AND, a single-branch ``or``) so the depth limit counts only
    nesting that changes the meaning."""
    if job_filter is None:
        return All()
    parts: list[Expr] = []
    for attribute, key in _FIELDS.items():
        field_filter = getattr(job_filter, attribute)
        if field_filter is not None:
            parts.extend(field_conditions(key, field_filter))
    if job_filter.has_errors is not None:
        parts.append(Condition("errors", "has_elements", job_filter.has_errors))
    if keyword := keyword_expr(job_filter.keyword):
        parts.append(keyword)
    if job_filter.and_ is not None:
        parts.extend(job_filter_expr(child) for child in job_filter.and_)
    if job_filter.or_:
        parts.append(_any_of([job_filter_expr(child) for child in job_filter.or_]))
    if job_filter.not_ is not None:
        parts.append(Not(job_filter_expr(job_filter.not_)))
    return _all_of(parts)


def _all_of(parts: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for part in parts:
        flat.extend(part.parts if isinstance(part, All) else (part,))
    return flat[0] if len(flat) == 1 else All(tuple(flat))


def _any_of(parts: list[Expr]) -> Expr:
    return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))
