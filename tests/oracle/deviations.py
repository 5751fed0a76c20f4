"""The documented deliberate deviations from python-core, by name: each a predicate over the query
(and, where the deviation is about what comes back, both answers) and the section of the docs that
gives the reason. The differential test fails on any difference that none of them explains."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dateutil.parser import isoparse

Query = dict[str, Any]
Answer = dict[str, Any]
Condition = dict[str, Any]

SEMANTICS = "docs/query-semantics.md#deviations-from-spaceone"
STATISTICS = "docs/statistics.md#deviations-from-spaceone"

INT_FIELDS = {"total_tasks", "remained_tasks"}
DATE_FIELDS = {"created_at", "updated_at", "finished_at", "controller_info.created_at"}
NOT_TEXT_FIELDS = INT_FIELDS | DATE_FIELDS | {"errors", "filter", "errors.additional"}
TEXT_OPERATORS = {"contain", "not_contain", "contain_in", "not_contain_in"}
LIST_OPERATORS = {"in", "not_in", "contain_in", "not_contain_in", "regex_in"}
NULL_OPERATORS = {"eq", "not", "in", "not_in", "exists"}
OPERATORS = {
    "eq",
    "not",
    "exists",
    "contain",
    "not_contain",
    "in",
    "not_in",
    "contain_in",
    "not_contain_in",
    "match",
    "regex",
    "regex_in",
    "gt",
    "gte",
    "lt",
    "lte",
    *(f"{kind}_{op}" for kind in ("datetime", "timediff") for op in ("gt", "gte", "lt", "lte")),
}
# mongoengine reads these path segments as its own query operators (`filter__size` is `$size`)
MONGOENGINE_OPERATORS = {
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "not",
    "in",
    "nin",
    "mod",
    "all",
    "size",
    "exists",
    "type",
    "elemMatch",
    "match",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "exact",
    "iexact",
    "regex",
    "iregex",
    "wholeword",
    "iwholeword",
    "near",
    "raw",
}


def conditions(query: Query) -> Iterator[Condition]:
    for part in ("filter", "filter_or"):
        for condition in query.get(part) or []:
            if isinstance(condition, dict):
                yield condition


def values(condition: Condition) -> list[Any]:
    value = condition.get("v")
    return value if isinstance(value, list) else [value]


def _op(condition: Condition) -> str:
    return str(condition.get("o"))


def _key(condition: Condition) -> str:
    return str(condition.get("k"))


API_FIELDS = {
    "job_id",
    "status",
    "filter",
    "total_tasks",
    "remained_tasks",
    "errors",
    "schedule_id",
    "project_id",
    "domain_id",
    "created_at",
    "updated_at",
    "finished_at",
    "controller_id",
}


def _is_api_name(key: str) -> bool:
    """A name of the Job API (docs/query-semantics.md#filters); the test's own list."""
    return key in API_FIELDS or key.startswith(("filter.", "errors.", "controller_info."))


def _is_controller(key: str) -> bool:
    return key == "controller_id" or key.startswith("controller_info.")


def _readable_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        isoparse(value)
    except ValueError:
        return False
    return True


def _any(predicate: Callable[[Condition], bool]) -> Callable[[str, Query, Answer, Answer], bool]:
    return lambda kind, query, oracle, gateway: kind == "list" and any(map(predicate, conditions(query)))


def _stat_keys(query: Query) -> Iterator[str]:
    """Every field name a statistics query reads in its stages (and `distinct`)."""
    if isinstance(query.get("distinct"), str):
        yield query["distinct"]
    for stage in query.get("aggregate") or []:
        for body in stage.values() if isinstance(stage, dict) else ():
            yield from _keys_in(body)


def _keys_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for name, value in node.items():
            if name in ("key", "k", "path") and isinstance(value, str):
                yield value
            yield from _keys_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys_in(item)


def _group_conditions(stage: Any) -> list[Any]:
    group = stage.get("group") if isinstance(stage, dict) else None
    fields = group.get("fields") if isinstance(group, dict) else None
    return [c for f in fields or [] if isinstance(f, dict) for c in f.get("conditions") or []]


def _unwinds_errors_first(query: Query) -> bool:
    stages = query.get("aggregate") or []
    return bool(stages) and isinstance(stages[0], dict) and stages[0].get("unwind", {}).get("path") == "errors"


def _default_page(kind: str, query: Query, oracle: Answer, gateway: Answer) -> bool:
    limit = (query.get("page") or {}).get("limit")
    return (
        kind == "list"
        and not limit
        and "ids" in oracle
        and len(oracle["ids"]) > 100
        and gateway.get("ids") == oracle["ids"][:100]
        and gateway.get("total_count") == oracle["total_count"]
    )


def _without_ids(rows: list[str]) -> list[str]:
    plain = [{k: v for k, v in json.loads(row).items() if k != "_id"} for row in rows]
    return sorted(json.dumps(row, sort_keys=True) for row in plain)


@dataclass(frozen=True)
class Deviation:
    doc: str
    applies: Callable[[str, Query, Answer, Answer], bool]


DEVIATIONS: dict[str, Deviation] = {
    # python-core ORs the negations of `not_contain_in` (matches nearly everything)
    "not_contain_in_none_of": Deviation(
        SEMANTICS, _any(lambda c: _op(c) == "not_contain_in" and len(values(c)) > 1)
    ),
    # python-core ORs the keyword into `filter_or`
    "keyword_and": Deviation(
        SEMANTICS,
        lambda kind, query, oracle, gateway: bool(
            str(query.get("keyword") or "").strip(" ") and query.get("filter_or")
        ),
    ),
    # python-core returns every row without a limit; the gateway the first page of 100
    "default_page_size": Deviation(SEMANTICS, _default_page),
    # python-core's `regex` / `regex_in` skip the controller sub-query (they match nothing)
    "controller_regex": Deviation(
        SEMANTICS, _any(lambda c: _op(c) in ("regex", "regex_in") and _is_controller(_key(c)))
    ),
    # python-core truncates numbers with int() (5.5 is 5, true is 1, "3" is 3, "10.5" an error)
    "whole_numbers_compared_exactly": Deviation(
        SEMANTICS,
        _any(
            lambda c: (
                _key(c) in INT_FIELDS
                and (
                    _op(c) in TEXT_OPERATORS | {"regex", "regex_in"}
                    or any(isinstance(v, bool) or not isinstance(v, int) for v in values(c) if v is not None)
                )
            )
        ),
    ),
    # python-core refuses a number in a text operator on a text field, and on other fields makes
    # it an equality or an error; the gateway searches the number's text
    "text_operators_search_text": Deviation(
        SEMANTICS,
        _any(
            lambda c: (
                _op(c) in TEXT_OPERATORS
                and (
                    _key(c) in NOT_TEXT_FIELDS
                    or _is_controller(_key(c))
                    or any(not isinstance(v, str) for v in values(c) if v is not None)
                )
            )
        ),
    ),
    # python-core crashes (ERROR_UNKNOWN) on an empty list of a list operator
    "empty_lists": Deviation(SEMANTICS, _any(lambda c: _op(c) in LIST_OPERATORS and c.get("v") == [])),
    # python-core compares with null / None where a value is null or unreadable
    "null_and_unreadable_values": Deviation(
        SEMANTICS,
        _any(
            lambda c: (
                (None in values(c) and _op(c) not in NULL_OPERATORS)
                or (
                    _key(c) in DATE_FIELDS
                    and _op(c) in {"eq", "not", "in", "not_in", "gt", "gte", "lt", "lte"}
                    and not all(v is None or _readable_date(v) for v in values(c))
                )
                or (_op(c).startswith("datetime_") and not _readable_date(c.get("v")))
            )
        ),
    ),
    # python-core's time pattern takes `|` for an operator and a unit
    "time_expression_bar": Deviation(
        SEMANTICS, _any(lambda c: _op(c).startswith("timediff_") and "|" in str(c.get("v")))
    ),
    # python-core's `regex` skips the key mapping: `filter.<path>` reads the API name as a stored path
    "regex_on_renamed_paths": Deviation(
        SEMANTICS, _any(lambda c: _op(c) in ("regex", "regex_in") and _key(c).startswith("filter."))
    ),
    # an object is never a value (it could be a MongoDB operator)
    "objects_are_not_values": Deviation(
        SEMANTICS, _any(lambda c: _op(c) != "match" and any(isinstance(v, dict) for v in values(c)))
    ),
    # `match` needs the `errors` array; its keys may be paths (python-core cannot resolve them)
    "match_on_errors": Deviation(
        SEMANTICS,
        _any(
            lambda c: (
                _op(c) == "match"
                and (
                    _key(c) != "errors" or (isinstance(c.get("v"), dict) and any("." in str(k) for k in c["v"]))
                )
            )
        ),
    ),
    # python-core silently ignores a sort on a controller field; the gateway refuses it
    "controller_sort": Deviation(
        SEMANTICS,
        lambda kind, query, oracle, gateway: any(
            isinstance(s, dict) and str(s.get("key", "")).startswith("controller_info.")
            for s in query.get("sort") or []
        ),
    ),
    # only the API's names: python-core also reads model fields that are not in the API
    # (`mark_error`, the `controller` reference) and silently ignores an unknown sort key
    "api_names_only": Deviation(
        SEMANTICS,
        lambda kind, query, oracle, gateway: (
            kind == "list"
            and (
                any(not _is_api_name(_key(c)) for c in conditions(query) if c.get("k"))
                or any(
                    isinstance(s, dict) and not _is_api_name(str(s.get("key"))) and s.get("key") != "_id"
                    for s in query.get("sort") or []
                )
            )
        ),
    ),
    # operator names in any case (the GraphQL enum spells them in upper case)
    "operator_spelling": Deviation(
        SEMANTICS, _any(lambda c: _op(c) != _op(c).lower() and _op(c).lower() in OPERATORS)
    ),
    # mongoengine reads a free path segment named like one of its operators as that operator
    "free_paths_are_paths": Deviation(
        SEMANTICS,
        _any(
            lambda c: (
                _key(c).startswith(("filter.", "errors.additional."))
                and _key(c).rsplit(".", 1)[-1] in MONGOENGINE_OPERATORS
            )
        ),
    ),
    # statistics: stage fields take the API's names (filter.<path>), python-core the stored ones
    "stat_api_names": Deviation(
        STATISTICS,
        lambda kind, query, oracle, gateway: (
            kind == "stat"
            and any(
                key in ("filters", "filter", "controller", "mark_error", "_id")
                or key.startswith(("filters.", "filter."))
                for key in _stat_keys(query)
            )
        ),
    ),
    # statistics: a date condition compares with the date its ISO text names; python-core compares
    # the text itself with the stored date (MongoDB orders every date after every text)
    "stat_date_conditions": Deviation(
        STATISTICS,
        lambda kind, query, oracle, gateway: (
            kind == "stat"
            and any(
                isinstance(c, dict) and c.get("k") in DATE_FIELDS and isinstance(c.get("v"), str)
                for stage in query.get("aggregate") or []
                for c in _group_conditions(stage)
            )
        ),
    ),
    # statistics: a path through `errors` reads every element (as MongoDB does; SecantusDB's own
    # `$errors.error_code` and `distinct` do not, and python-core sends those as they are)
    "array_paths_in_stages": Deviation(
        STATISTICS,
        lambda kind, query, oracle, gateway: (
            kind == "stat"
            and any(key.startswith("errors.") for key in _stat_keys(query))
            and not _unwinds_errors_first(query)
        ),
    ),
    # statistics: python-core sends `not` in group conditions as `$not` with two arguments (a crash)
    "stat_condition_not": Deviation(
        STATISTICS,
        lambda kind, query, oracle, gateway: (
            kind == "stat" and any('"o": "not"' in json.dumps(stage) for stage in query.get("aggregate") or [])
        ),
    ),
    # statistics: rows never carry the stored `_id` (python-core keeps it after a `project`)
    "stat_no_stored_ids": Deviation(
        STATISTICS,
        lambda kind, query, oracle, gateway: (
            kind == "stat"
            and bool(oracle.get("results"))
            and _without_ids(oracle["results"]) == gateway.get("results")
        ),
    ),
    # statistics: python-core wraps every refusal of a stage in ERROR_DB_QUERY
    "stat_error_codes": Deviation(
        STATISTICS,
        lambda kind, query, oracle, gateway: (
            kind == "stat" and oracle.get("error") == "ERROR_DB_QUERY" and "error" in gateway
        ),
    ),
}


def explained(kind: str, query: Query, oracle: Answer, gateway: Answer) -> str | None:
    """The name of the first documented deviation that explains this difference, if any."""
    for name, deviation in DEVIATIONS.items():
        if deviation.applies(kind, query, oracle, gateway):
            return name
    return None
