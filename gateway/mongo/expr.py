"""The neutral query form: what both front doors (SpaceONE ``Query`` and ``JobFilter``) build.

A filter is a tree of ``Condition`` leaves under ``All`` / ``AnyOf`` / ``Not``. Conditions use
SpaceONE operator names (``eq``, ``contain_in``, ``timediff_lt``, …) plus two internal ones the
typed filter needs (``starts_with``, ``has_elements``). Nodes compare by identity so the compiler
can key controller sub-query results by the condition that asked for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from gateway.errors import InvalidParameter


@dataclass(frozen=True, eq=False, slots=True)
class Condition:
    key: str
    operator: str
    value: Any = None


@dataclass(frozen=True, eq=False, slots=True)
class All:
    parts: tuple[Expr, ...] = ()


@dataclass(frozen=True, eq=False, slots=True)
class AnyOf:
    parts: tuple[Expr, ...] = ()


@dataclass(frozen=True, eq=False, slots=True)
class Not:
    part: Expr


Expr: TypeAlias = Condition | All | AnyOf | Not


@dataclass(frozen=True, slots=True)
class SortKey:
    key: str
    desc: bool = False


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """One listing request in neutral form: filter, order and page (``start`` is 1-based)."""

    where: Expr = field(default_factory=All)
    sort: tuple[SortKey, ...] = ()
    start: int = 1
    limit: int | None = None
    count_only: bool = False


def page_window(start: int | None, limit: int | None, *, default_size: int, max_size: int) -> tuple[int, int]:
    """SpaceONE paging → (1-based start, limit): a start below 1 means 1; no limit (or 0, how
    protobuf sends "unset") means the first page of the default size (``start`` is then ignored,
    as python-core ignores it); a negative or too large limit is refused."""
    if limit is not None and limit < 0:
        raise InvalidParameter(f"page.limit must be positive, got {limit}")
    if limit is not None and limit > max_size:
        raise InvalidParameter(
            f"page.limit {limit} is above the maximum page size of {max_size} (GATEWAY_MAX_PAGE_SIZE)"
        )
    if not limit:  # as python-core: `start` counts only with a limit
        return 1, default_size
    return max(start or 1, 1), limit


def keyword_expr(keyword: str | None) -> Expr | None:
    """SpaceONE ``keyword``: any word contained in ``job_id``; words are separated by the space
    character only, as python-core splits them (``keyword.strip().split(" ")``; a tab or a
    no-break space stays inside a word)."""
    words = [word for word in (keyword or "").strip().split(" ") if word]
    if not words:
        return None
    return AnyOf(tuple(Condition("job_id", "contain", word) for word in words))


def query_where(
    filter: Sequence[Expr],
    filter_or: Sequence[Expr],
    keyword: str | None,
    extra: Sequence[Expr] = (),
) -> All:
    """SpaceONE's query filters: AND(filter) AND the ``extra`` conditions AND OR(filter_or)
    (when there is one) AND the keyword."""
    parts: list[Expr] = [*filter, *extra]
    if filter_or:
        parts.append(AnyOf(tuple(filter_or)))
    if keyword_part := keyword_expr(keyword):
        parts.append(keyword_part)
    return All(tuple(parts))


def count_conditions(expr: Expr) -> int:
    if isinstance(expr, Condition):
        return 1
    if isinstance(expr, Not):
        return count_conditions(expr.part)
    return sum(count_conditions(part) for part in expr.parts)


def depth(expr: Expr) -> int:
    if isinstance(expr, Condition):
        return 0
    if isinstance(expr, Not):
        return 1 + depth(expr.part)
    return 1 + max((depth(part) for part in expr.parts), default=0)
