"""GraphQL inputs → the neutral query form of ``gateway.mongo.expr`` (no MongoDB here)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.mongo.expr import All, AnyOf, Condition, Expr, SearchSpec, SortKey, keyword_expr
from gateway.mongo.expr import page_window as page_window_of
from gateway.mongo.fields import resolve_job_field
from gateway.mongo.query import public_condition
from gateway.settings import Settings
from schema.enums import JobStatus
from schema.inputs import FilterCondition, Page, SearchQuery, Sort


def conditions(items: Iterable[FilterCondition] | None) -> tuple[Condition, ...]:
    return tuple(public_condition(item.k, str(item.o.value), item.v) for item in items or ())


def sort_keys(sort: Sort | None) -> tuple[SortKey, ...]:
    if sort is None:
        return ()
    if sort.keys:
        return tuple(SortKey(key.key, bool(key.desc)) for key in sort.keys)
    if sort.key:
        return (SortKey(sort.key, bool(sort.desc)),)
    return ()


def page_window(page: Page | None, settings: Settings) -> tuple[int, int]:
    """(1-based start, limit): no limit (or 0) → the default page size; too large → refused."""
    return page_window_of(
        page.start if page else None,
        page.limit if page else None,
        default_size=settings.default_page_size,
        max_size=settings.max_page_size,
    )


def convenience_conditions(
    *, job_id: str | None, status: JobStatus | None, schedule_id: str | None, project_id: str | None
) -> tuple[Condition, ...]:
    """SpaceONE's JobsQuery parameters: each one set becomes an `eq` (empty / NONE sets nothing)."""
    pairs: Sequence[tuple[str, str | None]] = (
        ("job_id", job_id),
        ("status", status.value if status and status is not JobStatus.NONE else None),
        ("schedule_id", schedule_id),
        ("project_id", project_id),
    )
    return tuple(Condition(key, "eq", value) for key, value in pairs if value)


def search_where(query: SearchQuery | None, extra: Sequence[Condition] = ()) -> Expr:
    """AND(filter) AND OR(filter_or) AND keyword AND the convenience conditions."""
    parts: list[Expr] = [*conditions(query.filter if query else None), *extra]
    if query and query.filter_or:
        parts.append(AnyOf(conditions(query.filter_or)))
    if query and (keyword := keyword_expr(query.keyword)):
        parts.append(keyword)
    return All(tuple(parts))


def search_spec(
    query: SearchQuery | None, extra: Sequence[Condition], settings: Settings
) -> SearchSpec:
    for name in (query.only if query else None) or ():
        resolve_job_field(name)
    start, limit = page_window(query.page if query else None, settings)
    return SearchSpec(
        where=search_where(query, extra),
        sort=sort_keys(query.sort if query else None),
        start=start,
        limit=limit,
        count_only=bool(query and query.count_only),
    )
