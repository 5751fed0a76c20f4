"""SpaceONE ``JobStatQuery`` JSON (``{query: StatisticsQuery, domain_id}``) → the neutral
``StatsSpec`` of :mod:`gateway.mongo.stats`. Pure: no I/O, no web framework.

Keys as in :mod:`gateway.spaceone.jobs_query`: snake_case or camelCase, unknown keys refused by name,
conditions as ``{k, v, o}`` or ``{key, value, operator}`` with SpaceONE's operators only. Each
``aggregate`` item holds exactly one stage kind. Types are checked here; names, operators and
paths are checked by the statistics compiler, which names the offending key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidParameter, RequiredParameter
from gateway.mongo import stats
from gateway.mongo.expr import query_where
from gateway.spaceone.jobs_query import conditions, flag, integer, page_window, snake_keys, sort_keys, text

_REQUEST_KEYS = frozenset({"query", "domain_id"})
_QUERY_KEYS = frozenset({"filter", "filter_or", "keyword", "aggregate", "distinct", "page"})


@dataclass(frozen=True, slots=True)
class StatRequest:
    """A parsed ``JobStatQuery``: the domain asked for and the statistics in neutral form."""

    domain_id: str | None
    spec: stats.StatsSpec


def parse_stat_query(body: Any, *, default_page_size: int, max_page_size: int) -> StatRequest:
    """A ``JobStatQuery`` JSON object → the neutral statistics request."""
    request = snake_keys(body, "the request", _REQUEST_KEYS)
    query = snake_keys(request.get("query") or {}, "query", _QUERY_KEYS)
    page = query.get("page")
    return StatRequest(
        domain_id=text(request.get("domain_id"), "domain_id"),
        spec=stats.StatsSpec(
            where=query_where(
                conditions(query.get("filter"), "query.filter"),
                conditions(query.get("filter_or"), "query.filter_or"),
                text(query.get("keyword"), "query.keyword"),
            ),
            aggregate=_aggregate(query.get("aggregate")),
            distinct=text(query.get("distinct"), "query.distinct"),
            page=stat_page(page, default_page_size, max_page_size),
        ),
    )


def _aggregate(value: Any) -> tuple[stats.AggregateStage, ...] | None:
    if value is None:
        return None
    return tuple(
        _stage(item, f"aggregate[{index}]") for index, item in enumerate(_list(value, "query.aggregate"))
    )


def _stage(item: Any, where: str) -> stats.AggregateStage:
    stage = snake_keys(item, where, frozenset(_STAGES))
    kinds = [kind for kind, value in stage.items() if value is not None]
    if not kinds:
        raise RequiredParameter(f"'{where}' needs one stage kind: {', '.join(_STAGES)}")
    if len(kinds) > 1:
        raise InvalidParameter(
            f"'{where}' gives {' and '.join(repr(k) for k in kinds)}: one stage kind per item"
        )
    kind = kinds[0]
    return _STAGES[kind](stage[kind], f"{where}.{kind}")


def _unwind(value: Any, where: str) -> stats.Unwind:
    unwind = snake_keys(value, where, frozenset({"path"}))
    return stats.Unwind(text(unwind.get("path"), f"{where}.path") or "")


def _group(value: Any, where: str) -> stats.Group:
    group = snake_keys(value, where, frozenset({"keys", "fields"}))
    return stats.Group(
        tuple(
            _group_key(key, f"{where}.keys[{i}]")
            for i, key in enumerate(_list(group.get("keys"), f"{where}.keys"))
        ),
        tuple(
            _group_field(field, f"{where}.fields[{i}]")
            for i, field in enumerate(_list(group.get("fields"), f"{where}.fields"))
        ),
    )


def _group_key(value: Any, where: str) -> stats.GroupKey:
    key = snake_keys(value, where, frozenset({"key", "name", "date_format"}))
    return stats.GroupKey(
        text(key.get("key"), f"{where}.key") or "",
        text(key.get("name"), f"{where}.name") or "",
        text(key.get("date_format"), f"{where}.date_format"),
    )


def _group_field(value: Any, where: str) -> stats.GroupField:
    field = snake_keys(value, where, frozenset({"key", "name", "operator", "fields", "conditions"}))
    operator = text(field.get("operator"), f"{where}.operator")
    if operator is None:
        raise RequiredParameter(f"'{where}.operator' is required")
    return stats.GroupField(
        name=text(field.get("name"), f"{where}.name") or "",
        operator=operator,
        key=text(field.get("key"), f"{where}.key"),
        fields=tuple(
            _sub_field(sub, f"{where}.fields[{i}]")
            for i, sub in enumerate(_list(field.get("fields"), f"{where}.fields"))
        ),
        conditions=conditions(field.get("conditions"), f"{where}.conditions"),
    )


def _sub_field(value: Any, where: str) -> stats.SubField:
    sub = snake_keys(value, where, frozenset({"key", "name"}))
    return stats.SubField(
        text(sub.get("key"), f"{where}.key") or "", text(sub.get("name"), f"{where}.name") or ""
    )


def _count(value: Any, where: str) -> stats.Count:
    count = snake_keys(value, where, frozenset({"name"}))
    return stats.Count(text(count.get("name"), f"{where}.name") or "")


def _sort(value: Any, where: str) -> stats.Sort:
    return stats.Sort(sort_keys(value, where))


def _project(value: Any, where: str) -> stats.Project:
    project = snake_keys(value, where, frozenset({"fields", "exclude_keys"}))
    return stats.Project(
        tuple(
            _project_field(field, f"{where}.fields[{i}]")
            for i, field in enumerate(_list(project.get("fields"), f"{where}.fields"))
        ),
        flag(project.get("exclude_keys"), f"{where}.exclude_keys"),
    )


def _project_field(value: Any, where: str) -> stats.ProjectField:
    field = snake_keys(value, where, frozenset({"key", "name", "operator", "operands"}))
    return stats.ProjectField(
        name=text(field.get("name"), f"{where}.name") or "",
        key=text(field.get("key"), f"{where}.key"),
        operator=text(field.get("operator"), f"{where}.operator"),
        operands=tuple(
            _operand(operand, f"{where}.operands[{i}]")
            for i, operand in enumerate(_list(field.get("operands"), f"{where}.operands"))
        ),
    )


def _operand(value: Any, where: str) -> stats.Operand:
    operand = snake_keys(value, where, frozenset({"key", "value"}))
    return stats.Operand(key=text(operand.get("key"), f"{where}.key"), value=operand.get("value"))


def _limit(value: Any, where: str) -> stats.Limit:
    return stats.Limit(_count_of(value, where))


def _skip(value: Any, where: str) -> stats.Skip:
    return stats.Skip(_count_of(value, where))


def _count_of(value: Any, where: str) -> int:
    number = integer(value, where)
    if number is None:
        raise RequiredParameter(f"'{where}' needs a number")
    return number


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidParameter(f"'{where}' must be a list")
    return value


_STAGES: dict[str, Callable[[Any, str], stats.AggregateStage]] = {
    "unwind": _unwind,
    "group": _group,
    "count": _count,
    "sort": _sort,
    "project": _project,
    "limit": _limit,
    "skip": _skip,
}


def stat_page(page: Any, default_size: int, max_size: int) -> tuple[int, int] | None:
    """As python-core: a page pages (and brings ``total_count``) only when it has a limit."""
    if page is None:
        return None
    window = page_window(page, default_size, max_size)  # checks it
    limit = snake_keys(page, "query.page", frozenset({"start", "limit"})).get("limit")
    return window if integer(limit, "query.page.limit") else None
