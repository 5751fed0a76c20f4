"""``jobStats``: the SpaceONE ``StatisticsQuery`` (stage-list form) and its thin resolver."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from gateway.mongo import stats
from gateway.mongo.documents import to_json
from gateway.mongo.expr import Expr, query_where
from schema.fields.convert import conditions, page_window, sort_keys
from schema.fields.listing import DOMAIN_ID, GatewayInfo
from schema.types.cost import Cost, page
from schema.types.inputs import FilterCondition, Page, Sort
from schema.types.scalars import JSON


@strawberry.enum(description="How a `group` stage combines the values of a field.")
class GroupOperator(Enum):
    COUNT = strawberry.enum_value("count", description="Number of documents (no `key` needed).")
    SUM = strawberry.enum_value("sum", description="Sum of `key`.")
    AVERAGE = strawberry.enum_value("average", description="Mean of `key` (nulls ignored).")
    MAX = strawberry.enum_value("max", description="Largest value of `key`.")
    MIN = strawberry.enum_value("min", description="Smallest value of `key`.")
    FIRST = strawberry.enum_value("first", description="`key` of the first document.")
    LAST = strawberry.enum_value("last", description="`key` of the last document.")
    ADD_TO_SET = strawberry.enum_value("add_to_set", description="Distinct values of `key`.")
    MERGE_OBJECTS = strawberry.enum_value("merge_objects", description="The objects of `key` merged into one.")
    PUSH = strawberry.enum_value(
        "push", description="Every value of `key`, or an object of the sub-`fields` per document."
    )


@strawberry.enum(description="How a `project` stage computes a field.")
class ProjectOperator(Enum):
    SIZE = strawberry.enum_value("size", description="Length of the array `key` (null otherwise).")
    ARRAY_TO_OBJECT = strawberry.enum_value(
        "array_to_object", description="The array of `{k, v}` pairs `key` as an object."
    )
    OBJECT_TO_ARRAY = strawberry.enum_value(
        "object_to_array", description="The object `key` as an array of `{k, v}` pairs."
    )
    SUM = strawberry.enum_value("sum", description="Sum of the array `key`, or of `key` and the `operands`.")
    ADD = strawberry.enum_value("add", description="`key` plus the `operands` (two or more).")
    SUBTRACT = strawberry.enum_value("subtract", description="First operand minus the second (exactly two).")
    MULTIPLY = strawberry.enum_value(
        "multiply", description="Product of `key` and the `operands` (two or more)."
    )
    DIVIDE = strawberry.enum_value(
        "divide",
        description="First operand divided by the second (exactly two). A literal 0 divisor is "
        "refused; a field divisor of 0 gives null.",
    )


@strawberry.input(description="A group key: documents with equal values are grouped.")
class GroupKey:
    key: str = strawberry.field(description="Field to group by (an earlier output name, or a job field).")
    name: str = strawberry.field(description="Name of the key in the result rows.")
    date_format: str | None = strawberry.field(
        default=None,
        description="For a date field: `year`, `month`, `day`, or a format such as `%Y-%m-%d` (UTC).",
    )


@strawberry.input(description="One field of the object a PUSH adds per document.")
class GroupSubField:
    key: str = strawberry.field(description="Field to read.")
    name: str = strawberry.field(description="Name in the pushed object.")


@strawberry.input(description="An accumulated field of a group stage.")
class GroupField:
    key: str | None = strawberry.field(
        default=None, description="Field the operator reads (not needed for COUNT)."
    )
    name: str = strawberry.field(description="Name of the field in the result rows.")
    operator: GroupOperator = strawberry.field(description="How the values are combined.")
    fields: list[GroupSubField] | None = strawberry.field(
        default=None, description="For PUSH: push an object of these fields."
    )
    conditions: list[FilterCondition] | None = strawberry.field(
        default=None,
        description="For COUNT, SUM and AVERAGE: only documents meeting all these conditions "
        "count (operators eq, not, gt, gte, lt, lte).",
    )


@strawberry.input(description="Group documents by `keys` and accumulate `fields`.")
class GroupStage:
    keys: list[GroupKey] | None = strawberry.field(default=None, description="Group keys.")
    fields: list[GroupField] | None = strawberry.field(default=None, description="Accumulated fields.")


@strawberry.input(one_of=True, description="One operand of a project operator: a field or a number.")
class ProjectOperand:
    key: str | None = strawberry.field(default=strawberry.UNSET, description="A field.")
    value: float | None = strawberry.field(default=strawberry.UNSET, description="A number.")


@strawberry.input(description="One output field of a project stage.")
class ProjectField:
    key: str | None = strawberry.field(
        default=None, description="Field to read (the first operand of an operator)."
    )
    name: str = strawberry.field(description="Name of the output field.")
    operator: ProjectOperator | None = strawberry.field(
        default=None, description="Operator applied; none copies `key`."
    )
    operands: list[ProjectOperand] | None = strawberry.field(
        default=None,
        description="Further operands of SUM, ADD, SUBTRACT, MULTIPLY and DIVIDE, after `key`.",
    )


@strawberry.input(description="Reshape each row to the given fields.")
class ProjectStage:
    fields: list[ProjectField] = strawberry.field(description="Output fields.")
    exclude_keys: bool | None = strawberry.field(
        default=False, description="Drop the group keys of earlier stages from the rows."
    )


@strawberry.input(description="One row per element of an array field.")
class UnwindStage:
    path: str = strawberry.field(
        description="Array field, e.g. `errors`; rows with an empty or missing array drop out."
    )


@strawberry.input(description="Replace the rows by one row holding their number.")
class CountStage:
    name: str = strawberry.field(description="Name of the count field (0 when there are no rows).")


@strawberry.input(one_of=True, description="One pipeline stage: exactly one kind is given.")
class AggregateStage:
    unwind: UnwindStage | None = strawberry.field(default=strawberry.UNSET, description="Unwind an array.")
    group: GroupStage | None = strawberry.field(default=strawberry.UNSET, description="Group rows.")
    count: CountStage | None = strawberry.field(default=strawberry.UNSET, description="Count rows.")
    sort: Sort | None = strawberry.field(
        default=strawberry.UNSET, description="Order rows (a group key is referred to by its name)."
    )
    project: ProjectStage | None = strawberry.field(default=strawberry.UNSET, description="Reshape rows.")
    limit: int | None = strawberry.field(default=strawberry.UNSET, description="Keep the first N rows.")
    skip: int | None = strawberry.field(default=strawberry.UNSET, description="Drop the first N rows.")


@strawberry.input(description="The SpaceONE statistics query: filters, then `aggregate` or `distinct`.")
class StatisticsQuery:
    filter: list[FilterCondition] | None = strawberry.field(
        default=None, description="Conditions that must all hold (AND), as in `jobs`."
    )
    filter_or: list[FilterCondition] | None = strawberry.field(
        default=None, description="Conditions of which at least one must hold (OR)."
    )
    keyword: str | None = strawberry.field(
        default=None, description="Words; a job matches when its `job_id` contains any of them."
    )
    aggregate: list[AggregateStage] | None = strawberry.field(
        default=None, description="The stages, applied in order."
    )
    distinct: str | None = strawberry.field(
        default=None, description="A field whose distinct values are the results (sorted)."
    )
    page: Page | None = strawberry.field(
        default=None,
        description="Page the rows; `totalCount` then counts every row before paging.",
    )


@strawberry.type(description="The rows of a statistics query.")
class StatisticsResult:
    results: list[JSON | None] = strawberry.field(
        directives=[Cost(weight=1)],
        description="Rows with the group keys at the top level (dates as ISO-8601 UTC text); "
        "for `distinct`, the values, null included when a job holds null (jobs without the "
        "field give no value, as MongoDB's `distinct`).",
    )
    total_count: int | None = strawberry.field(
        description="Every row before paging; only when `page` was given."
    )


# inputs → neutral form ------------------------------------------------------------------------


def stats_where(query: StatisticsQuery) -> Expr:
    return query_where(conditions(query.filter), conditions(query.filter_or), query.keyword)


def _stage(stage: AggregateStage) -> stats.AggregateStage:
    if stage.unwind:
        return stats.Unwind(stage.unwind.path)
    if stage.group:
        return stats.Group(
            tuple(stats.GroupKey(k.key, k.name, k.date_format) for k in stage.group.keys or ()),
            tuple(_group_field(f) for f in stage.group.fields or ()),
        )
    if stage.count:
        return stats.Count(stage.count.name)
    if stage.sort:
        return stats.Sort(sort_keys(stage.sort))
    if stage.project:
        return stats.Project(
            tuple(_project_field(f) for f in stage.project.fields),
            bool(stage.project.exclude_keys),
        )
    if isinstance(stage.limit, int):
        return stats.Limit(stage.limit)
    if isinstance(stage.skip, int):
        return stats.Skip(stage.skip)
    raise AssertionError("@oneOf guarantees one stage kind")  # pragma: no cover


def _group_field(field: GroupField) -> stats.GroupField:
    return stats.GroupField(
        name=field.name,
        operator=str(field.operator.value),
        key=field.key,
        fields=tuple(stats.SubField(sub.key, sub.name) for sub in field.fields or ()),
        conditions=conditions(field.conditions),
    )


def _project_field(field: ProjectField) -> stats.ProjectField:
    return stats.ProjectField(
        name=field.name,
        key=field.key,
        operator=str(field.operator.value) if field.operator else None,
        operands=tuple(
            stats.Operand(
                key=operand.key if isinstance(operand.key, str) else None,
                value=operand.value if isinstance(operand.value, (int, float)) else None,
            )
            for operand in field.operands or ()
        ),
    )


async def resolve_job_stats(
    info: GatewayInfo,
    query: Annotated[StatisticsQuery, strawberry.argument(description="The statistics query.")],
    domain_id: Annotated[str | None, DOMAIN_ID] = None,
) -> StatisticsResult:
    scope = info.context.scope(domain_id)
    # as python-core: a page pages (and brings totalCount) only when it has a limit
    page = page_window(query.page, info.context.settings) if query.page and query.page.limit else None
    spec = stats.StatsSpec(
        where=stats_where(query),
        aggregate=tuple(_stage(stage) for stage in query.aggregate) if query.aggregate else None,
        distinct=query.distinct,
        page=page,
    )
    result = await scope.repository.statistics(spec)
    info.context.count_returned_rows(len(result.rows))
    return StatisticsResult(results=[to_json(row) for row in result.rows], total_count=result.total_count)


@strawberry.type
class StatisticsQueries:
    job_stats: StatisticsResult = strawberry.field(
        resolver=resolve_job_stats,
        directives=[page(["query.page.limit"], ["results"])],
        description="SpaceONE statistics over the domain's jobs (the `stat` method): one "
        "aggregation pipeline, plus one count when `page` is given.",
    )
