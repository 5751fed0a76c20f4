"""SpaceONE query inputs (the `Query` of core/v1/query.proto, in GraphQL spelling)."""

from __future__ import annotations

import strawberry

from schema.types.enums import FilterOperator, JobOrderField, OrderDirection
from schema.types.scalars import JSON


@strawberry.input(description="One condition `{k, v, o}`: field `k` compared with `v` by `o`.")
class FilterCondition:
    k: str = strawberry.field(
        description="Field name in SpaceONE or camelCase spelling: `job_id`, `status`, "
        "`filter.<path>`, `errors.error_code`, `controller_id`, `controller_info.<field>`, …"
    )
    v: JSON | None = strawberry.field(
        default=None, description="The value: a scalar, a list or an object, as the operator needs."
    )
    o: FilterOperator = strawberry.field(description="The operator.")


@strawberry.input(description="One sort key.")
class SortKey:
    key: str = strawberry.field(description="Field to sort by.")
    desc: bool | None = strawberry.field(default=False, description="Descending when true.")


@strawberry.input(
    description="Sort by one `key` or by several `keys` (keys wins when both are given). "
    "The default is `created_at` descending; `_id` ascending always breaks ties."
)
class Sort:
    key: str | None = strawberry.field(default=None, description="Field to sort by.")
    desc: bool | None = strawberry.field(default=False, description="Descending when true.")
    keys: list[SortKey] | None = strawberry.field(
        default=None, description="Several sort keys, most significant first."
    )


@strawberry.input(description="Paging: a 1-based row offset and a page size.")
class Page:
    start: int | None = strawberry.field(
        default=1,
        description="1-based offset of the first row (values below 1 mean 1); used only with a `limit`.",
    )
    limit: int | None = strawberry.field(
        default=None,
        description="Rows per page; unset or 0 gives the default page size (100), and a limit "
        "above the maximum page size (1,000) is refused.",
    )


@strawberry.input(description="The SpaceONE search query.")
class SearchQuery:
    filter: list[FilterCondition] | None = strawberry.field(
        default=None, description="Conditions that must all hold (AND)."
    )
    filter_or: list[FilterCondition] | None = strawberry.field(
        default=None, description="Conditions of which at least one must hold (OR)."
    )
    sort: Sort | None = strawberry.field(default=None, description="Result order.")
    page: Page | None = strawberry.field(default=None, description="Which rows to return.")
    minimal: bool | None = strawberry.field(
        default=None,
        description="Accepted for compatibility; the selection set decides which fields are read.",
    )
    count_only: bool | None = strawberry.field(
        default=None, description="Return no results, only `totalCount`."
    )
    only: list[str] | None = strawberry.field(
        default=None,
        description="Accepted for compatibility (names are checked); the selection set decides "
        "which fields are read.",
    )
    keyword: str | None = strawberry.field(
        default=None,
        description="Words (split on the space character); a job matches when its `job_id` contains any "
        "of them, case-insensitive. ANDed with the filters.",
    )


@strawberry.input(description="One key of a connection's order.")
class JobOrder:
    field: JobOrderField = strawberry.field(description="The field to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Ascending (the default) or descending."
    )
