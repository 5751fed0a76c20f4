"""GraphQL inputs → the neutral query form of ``gateway.mongo.expr`` (no MongoDB here)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.mongo import expr
from gateway.mongo.expr import Condition, Expr, SearchSpec, SortKey
from gateway.mongo.fields import resolve_job_field
from gateway.mongo.query import public_condition
from gateway.settings import Settings
from schema.types.enums import JobStatus
from schema.types.inputs import FilterCondition, Page, SearchQuery, Sort


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
    """(1-based start, limit) with the settings' default and maximum page sizes."""
    return expr.page_window(
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
    """AND(filter) AND the convenience conditions AND OR(filter_or) AND keyword."""
    if query is None:
        return expr.query_where((), (), None, extra)
    return expr.query_where(conditions(query.filter), conditions(query.filter_or), query.keyword, extra)


def search_spec(query: SearchQuery | None, extra: Sequence[Condition], settings: Settings) -> SearchSpec:
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
