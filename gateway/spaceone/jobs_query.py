"""SpaceONE request JSON (``JobsQuery``) → the neutral query form, and stored job documents →
SpaceONE ``JobInfo`` JSON. Pure: no I/O, no web framework.

Keys are accepted in snake_case (as SpaceONE sends them) or in their camelCase JSON spelling;
conditions as ``{k, v, o}`` or ``{key, value, operator}``; ``status`` as a name, an enum number
or ``JOB_STATE_NONE`` / ``NONE`` (no status filter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidParameter, QueryError, shorten, suggestion
from gateway.mongo import expr
from gateway.mongo.expr import Condition, SearchSpec, SortKey, query_where
from gateway.mongo.fields import JOB_STATUSES, resolve_job_field, snake_case
from gateway.mongo.query import public_condition

JOB_STATES = ("JOB_STATE_NONE", *JOB_STATUSES)  # indexed by SpaceONE's JobState enum number
NO_STATUS = frozenset({"", "JOB_STATE_NONE", "NONE"})
JOB_INFO_FIELDS = (
    "job_id",
    "status",
    "filter",
    "total_tasks",
    "remained_tasks",
    "errors",
    "controller_info",
    "project_id",
    "domain_id",
    "created_at",
    "updated_at",
    "finished_at",
)
MINIMAL_FIELDS = ("job_id", "status", "created_at", "finished_at")
_JOBS_QUERY_KEYS = frozenset({"query", "job_id", "status", "schedule_id", "project_id", "domain_id"})
_QUERY_KEYS = frozenset({"filter", "filter_or", "sort", "page", "minimal", "count_only", "only", "keyword"})


@dataclass(frozen=True, slots=True)
class JobsRequest:
    """A parsed ``JobsQuery``: the domain asked for, the neutral search and the fields wanted."""

    domain_id: str | None
    spec: SearchSpec
    fields: tuple[str, ...]


def snake_keys(data: Any, where: str, allowed: frozenset[str]) -> dict[str, Any]:
    """An object with its keys in snake_case; unknown keys are refused by name."""
    if not isinstance(data, Mapping):
        raise InvalidParameter(f"{where} must be a JSON object")
    result = {snake_case(str(key)): value for key, value in data.items()}
    unknown = sorted(set(result) - allowed)
    if unknown:
        hint = suggestion(unknown[0], sorted(allowed), "parameters")
        raise InvalidParameter(f"unknown parameter '{shorten(unknown[0])}' in {where}{hint}")
    return result


def text(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidParameter(f"{name} must be a string")
    return value


def integer(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidParameter(f"{name} must be an integer")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float
        raise InvalidParameter(f"{name} must be an integer, got {shorten(repr(value))}") from None
    if not -(2**63) <= number < 2**63:
        raise InvalidParameter(f"{name} must be an integer of at most 64 bits, got {shorten(repr(value))}")
    return number


def flag(value: Any, name: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidParameter(f"{name} must be true or false")


def status_condition(value: Any) -> Condition | None:
    """``status`` → an ``eq`` condition; none for ``JOB_STATE_NONE`` / ``NONE`` / 0 / empty."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(JOB_STATES):
        value = JOB_STATES[value]
    if not isinstance(value, str) or value.upper() not in {*JOB_STATES, *NO_STATUS}:
        raise InvalidParameter(
            f"status must be one of {', '.join(JOB_STATES)}, got {shorten(repr(value))}",
        )
    name = value.upper()
    return None if name in NO_STATUS else Condition("status", "eq", name)


def condition(item: Any, where: str) -> Condition:
    """``{k, v, o}`` or ``{key, value, operator}`` → a condition with one of SpaceONE's operators
    (the rest is checked by the compiler)."""
    if not isinstance(item, Mapping):
        raise QueryError(f"{where} must be an object {{k, v, o}}")
    key = item.get("k", item.get("key"))
    operator = item.get("o", item.get("operator"))
    return public_condition(key, operator, item.get("v", item.get("value")))


def conditions(items: Any, where: str) -> tuple[Condition, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise QueryError(f"{where} must be a list of conditions")
    return tuple(condition(item, f"{where}[{index}]") for index, item in enumerate(items))


def sort_keys(sort: Any, where: str = "query.sort") -> tuple[SortKey, ...]:
    """``{key, desc}``, ``{keys: [{key, desc}]}`` or a list of ``{key, desc}`` → sort keys."""
    if sort is None:
        return ()
    if isinstance(sort, list):
        sort = {"keys": sort}
    sort = snake_keys(sort, where, frozenset({"key", "desc", "keys"}))
    if sort.get("keys"):
        if not isinstance(sort["keys"], list):
            raise InvalidParameter(f"{where}.keys must be a list of {{key, desc}}")
        entries = [snake_keys(k, f"{where}.keys", frozenset({"key", "desc"})) for k in sort["keys"]]
        return tuple(
            SortKey(key, flag(entry.get("desc"), f"{where}.keys.desc"))
            for entry in entries
            if (key := text(entry.get("key"), f"{where}.keys.key"))
        )
    key = text(sort.get("key"), f"{where}.key")
    return (SortKey(key, flag(sort.get("desc"), f"{where}.desc")),) if key else ()


def selected_fields(query: Mapping[str, Any]) -> tuple[str, ...]:
    """``minimal`` and ``only`` → the ``JobInfo`` fields to return (all of them by default)."""
    only = query.get("only")
    if only:
        if not isinstance(only, list) or not all(isinstance(name, str) for name in only):
            raise InvalidParameter("query.only must be a list of field names")
        wanted: list[str] = []
        for name in only:
            head = snake_case(name.split(".", 1)[0])
            if head not in JOB_INFO_FIELDS:
                resolve_job_field(name)  # names the unknown field in a QueryError
                continue
            if head not in wanted:
                wanted.append(head)
        return tuple(wanted)
    if flag(query.get("minimal"), "query.minimal"):
        return MINIMAL_FIELDS
    return JOB_INFO_FIELDS


def parse_jobs_query(body: Any, *, default_page_size: int, max_page_size: int) -> JobsRequest:
    """A ``JobsQuery`` JSON object → the neutral search, with the page limits of the settings."""
    request = snake_keys(body, "the request", _JOBS_QUERY_KEYS)
    query = snake_keys(request.get("query") or {}, "query", _QUERY_KEYS)
    extra = [
        *(
            Condition(name, "eq", value)
            for name in ("job_id", "schedule_id", "project_id")
            if (value := text(request.get(name), name))
        ),
    ]
    if (status := status_condition(request.get("status"))) is not None:
        extra.append(status)
    start, limit = page_window(query.get("page"), default_page_size, max_page_size)
    return JobsRequest(
        domain_id=text(request.get("domain_id"), "domain_id"),
        spec=SearchSpec(
            where=query_where(
                conditions(query.get("filter"), "query.filter"),
                conditions(query.get("filter_or"), "query.filter_or"),
                text(query.get("keyword"), "query.keyword"),
                extra,
            ),
            sort=sort_keys(query.get("sort")),
            start=start,
            limit=limit,
            count_only=flag(query.get("count_only"), "query.count_only"),
        ),
        fields=selected_fields(query),
    )


def page_window(page: Any, default_size: int, max_size: int) -> tuple[int, int]:
    """(1-based start, limit), as for GraphQL: no limit (or 0) → the default, too large → refused."""
    page = snake_keys(page or {}, "query.page", frozenset({"start", "limit"}))
    return expr.page_window(
        integer(page.get("start"), "query.page.start"),
        integer(page.get("limit"), "query.page.limit"),
        default_size=default_size,
        max_size=max_size,
    )
