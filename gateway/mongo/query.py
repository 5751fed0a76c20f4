"""Neutral filter → MongoDB filter. Pure: no I/O, every client value checked before use.

Conditions on controllers (``controller_id``, ``controller_info.*``) cannot be answered from the
job document: the compiler gives each a filter on the ``controller`` collection and leaves a
placeholder that :meth:`FilterPlan.resolve` replaces with ``controller ∈ {matching _ids}`` once the
repository has run those sub-queries (scoped to the caller's domain, like everything else).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.regex import Regex
from dateutil.parser import isoparse

from gateway.errors import QueryError, shorten, suggestion
from gateway.mongo.expr import AnyOf, Condition, Expr, Not, SortKey, count_conditions, depth
from gateway.mongo.fields import (
    Kind,
    ResolvedField,
    Target,
    check_free_path,
    resolve_job_field,
    resolve_sort_field,
    snake_case,
)
from gateway.mongo.regex_safety import backtracking_risk
from gateway.settings import Settings

Filter = dict[str, Any]
SCALAR_TYPES = (str, int, float, bool, type(None), datetime)  # datetime: from typed filters

DEFAULT_SORT = (SortKey("created_at", desc=True),)


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Bounds on what one filter may ask for (their defaults are those of the settings)."""

    max_conditions: int
    max_depth: int
    max_regex_length: int
    max_list_values: int

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(
            max_conditions=settings.max_filter_conditions,
            max_depth=settings.max_filter_depth,
            max_regex_length=settings.max_regex_length,
            max_list_values=settings.max_list_values,
        )


@dataclass(frozen=True, slots=True)
class _ControllerRef:
    index: int
    negated: bool = False  # `not` / `not_in`: the job's controller is none of the matching ones


@dataclass(slots=True)
class FilterPlan:
    """A compiled filter waiting for its controller sub-queries (if any)."""

    filter: Filter
    controller_filters: list[Filter] = field(default_factory=list)

    def resolve(self, controller_ids: Sequence[Sequence[ObjectId]]) -> Filter:
        """The final job filter, given the ``_id``s each controller sub-query matched."""
        if len(controller_ids) != len(self.controller_filters):
            raise ValueError("one id list per controller sub-query is needed")
        return _substitute(self.filter, controller_ids)  # type: ignore[no-any-return]


def _substitute(node: Any, ids: Sequence[Sequence[ObjectId]]) -> Any:
    if isinstance(node, _ControllerRef):
        return {"$nin" if node.negated else "$in": list(ids[node.index])}
    if isinstance(node, dict):
        return {key: _substitute(value, ids) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(value, ids) for value in node]
    return node


def compile_filter(expr: Expr, limits: QueryLimits, now: datetime | None = None) -> FilterPlan:
    """Compile a neutral filter; raises :class:`QueryError` naming the first bad condition."""
    conditions = count_conditions(expr)
    if conditions > limits.max_conditions:
        raise QueryError(
            f"the filter has {conditions} conditions (keyword words included), more than the "
            f"limit of {limits.max_conditions} (max_filter_conditions)",
            spaceone_code="ERROR_INVALID_PARAMETER",
        )
    if depth(expr) > limits.max_depth:
        raise QueryError(
            f"the filter is nested deeper than the limit of {limits.max_depth} (max_filter_depth)",
            spaceone_code="ERROR_INVALID_PARAMETER",
        )
    compiler = _Compiler(limits, now or datetime.now(UTC))
    return FilterPlan(compiler.expr(expr), compiler.controller_filters)


class _Compiler:
    def __init__(self, limits: QueryLimits, now: datetime) -> None:
        self.limits = limits
        self.now = now
        self.controller_filters: list[Filter] = []

    def expr(self, node: Expr) -> Filter:
        if isinstance(node, Condition):
            return self.condition(node)
        if isinstance(node, Not):
            return {"$nor": [self.expr(node.part)]}
        parts = [self.expr(part) for part in node.parts]
        if isinstance(node, AnyOf):  # an empty branch, or no branch at all, matches everything
            return {} if not parts or not all(parts) else combine_or(parts)
        return combine_and(parts)

    def condition(self, cond: Condition) -> Filter:
        if not isinstance(cond.key, str) or not cond.key:
            raise QueryError("a filter condition has no key 'k'")
        if not isinstance(cond.operator, str) or not cond.operator:
            raise QueryError(f"the condition on '{shorten(cond.key)}' has no operator 'o'")
        operator = cond.operator.lower()
        if operator not in OPERATORS:
            raise unknown_operator(cond.operator, cond.key)
        target = resolve_job_field(cond.key)
        if target.target is Target.CONTROLLER:
            return self.controller_condition(target, operator, cond.value)
        compiled = OPERATORS[operator](self, target, operator, cond.value)
        if target.legacy_path:
            legacy = replace(target, path=target.legacy_path)
            compiled = legacy_filters_fallback(
                compiled, OPERATORS[operator](self, legacy, operator, cond.value)
            )
        return compiled

    def controller_condition(self, target: ResolvedField, operator: str, value: Any) -> Filter:
        """As python-core: ``eq`` / ``not`` null compare the job's own reference; ``not`` / ``not_in``
        become "none of the matching controllers" (so jobs without a controller match); the rest
        "one of the matching controllers"."""
        if value is None and operator in ("eq", "not"):
            return {"controller": None if operator == "eq" else {"$ne": None}}
        negated = operator in ("not", "not_in")
        positive = {"not": "eq", "not_in": "in"}.get(operator, operator)
        self.controller_filters.append(OPERATORS[positive](self, target, operator, value))
        return {"controller": _ControllerRef(len(self.controller_filters) - 1, negated)}

    # value checks -------------------------------------------------------------------------

    def scalar(self, field: ResolvedField, operator: str, value: Any, *, allow_null: bool) -> Any:
        if isinstance(value, (list, tuple)):
            raise QueryError(
                f"operator '{operator}' on '{field.name}' needs a single value, not a list",
                spaceone_code="ERROR_OPERATOR_VALUE_TYPE",
            )
        if not isinstance(value, SCALAR_TYPES):
            raise QueryError(
                f"operator '{operator}' on '{field.name}' needs a string, number, boolean"
                f"{' or null' if allow_null else ''}, not an object",
                spaceone_code="ERROR_OPERATOR_VALUE_TYPE",
            )
        if value is None and not allow_null:
            raise QueryError(
                f"operator '{operator}' on '{field.name}' needs a value, not null",
                spaceone_code="ERROR_OPERATOR_VALUE_TYPE",
            )
        return storable(value, f"the value of '{operator}' on '{field.name}'")

    def values(self, field: ResolvedField, operator: str, value: Any) -> list[Any]:
        if not isinstance(value, (list, tuple)):
            raise QueryError(
                f"operator '{operator}' on '{field.name}' needs a list of values",
                spaceone_code="ERROR_OPERATOR_LIST_VALUE_TYPE",
            )
        if not all(isinstance(item, SCALAR_TYPES) for item in value):
            raise QueryError(
                f"operator '{operator}' on '{field.name}' takes a list of strings, numbers, booleans or nulls",
                spaceone_code="ERROR_OPERATOR_LIST_VALUE_TYPE",
            )
        if len(value) > self.limits.max_list_values:
            raise QueryError(
                f"operator '{operator}' on '{field.name}' has {len(value)} values, more than the "
                f"limit of {self.limits.max_list_values} (max_list_values)",
                spaceone_code="ERROR_INVALID_PARAMETER",
            )
        return [storable(item, f"a value of '{operator}' on '{field.name}'") for item in value]

    def typed(self, field: ResolvedField, operator: str, value: Any) -> Any:
        """Coerce a value to the field's type: a number for counts, a date for dates."""
        if value is None:
            return None
        if field.kind is Kind.DATE:
            return parse_datetime(value, f"the value of '{operator}' on '{field.name}'")
        if field.kind is Kind.INT and not isinstance(value, bool | int | float):
            return storable(_number(str(value), f"the value of '{operator}' on '{field.name}'"), "")
        return value

    def regex(self, field: ResolvedField, operator: str, pattern: str, *, escaped: bool) -> Regex[str]:
        if len(pattern) > self.limits.max_regex_length:
            raise QueryError(
                f"the pattern of '{operator}' on '{field.name}' is longer than the limit of "
                f"{self.limits.max_regex_length} characters (max_regex_length: GATEWAY_MAX_REGEX_LENGTH)"
            )
        if "\x00" in pattern:
            raise QueryError(f"the pattern of '{operator}' on '{field.name}' contains a NUL character")
        text = re.escape(pattern) if escaped else pattern
        if not escaped:
            try:
                re.compile(text)
            except re.error as error:
                raise QueryError(
                    f"the pattern of '{operator}' on '{field.name}' is not a valid regular expression: {error}"
                ) from None
            if risk := backtracking_risk(text):
                raise QueryError(
                    f"the pattern of '{operator}' on '{field.name}' could take exponential time "
                    f"to match: {risk}"
                )
        return Regex(text, "i")


# operators ---------------------------------------------------------------------------------

OperatorFn = Callable[[_Compiler, ResolvedField, str, Any], Filter]


def _eq(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    return {f.path: c.typed(f, op, _not_elements(f, op, c.scalar(f, op, v, allow_null=True)))}


def _not(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    return {f.path: {"$ne": c.typed(f, op, _not_elements(f, op, c.scalar(f, op, v, allow_null=True)))}}


def _not_elements(f: ResolvedField, op: str, value: Any) -> Any:
    """The ``errors`` array holds objects: a value other than null is refused, as python-core does."""
    if f.kind is Kind.ARRAY and value is not None:
        raise QueryError(f"operator '{op}' cannot compare '{f.name}' with a value; use 'match' on its elements")
    return value


def _exists(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    if not isinstance(v, bool):
        raise QueryError(
            f"operator '{op}' on '{f.name}' needs true or false",
            spaceone_code="ERROR_OPERATOR_BOOLEAN_TYPE",
        )
    return {f.path: {"$exists": v}}


def _has_elements(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    _exists(c, f, op, v)
    return {f"{f.path}.0": {"$exists": v}}


def _text(c: _Compiler, f: ResolvedField, op: str, v: Any) -> str:
    if v is None:  # python-core: ERROR_DB_QUERY (the driver cannot escape null)
        raise QueryError(f"operator '{op}' on '{f.name}' needs a text, not null")
    value = c.scalar(f, op, v, allow_null=False)
    return value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def _contain(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    return {f.path: c.regex(f, op, _text(c, f, op, v), escaped=True)}


def _not_contain(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    # `$nor` of the match: also true for missing/null, and for arrays no element may match.
    return {"$nor": [_contain(c, f, op, v)]}


def _starts_with(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    pattern = c.regex(f, op, _text(c, f, op, v), escaped=True)
    return {f.path: Regex("^" + pattern.pattern, "i")}


def _in(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    return {f.path: {"$in": [c.typed(f, op, _not_elements(f, op, item)) for item in c.values(f, op, v)]}}


def _not_in(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    return {f.path: {"$nin": [c.typed(f, op, _not_elements(f, op, item)) for item in c.values(f, op, v)]}}


def _contain_in(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    items = c.values(f, op, v)
    return combine_or([_contain(c, f, op, item) for item in items])


def _not_contain_in(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    # Deliberate fix: SpaceONE ORs the negations, which matches nearly everything.
    items = c.values(f, op, v)
    return {"$nor": [_contain(c, f, op, item) for item in items]} if items else {}


def _match(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    if not isinstance(v, dict):
        raise QueryError(
            f"operator '{op}' on '{f.name}' needs an object of field names and values",
            spaceone_code="ERROR_OPERATOR_DICT_VALUE_TYPE",
        )
    if f.kind not in (Kind.ARRAY, Kind.ANY):
        raise QueryError(f"operator '{op}' needs an array field, '{f.name}' is not one")
    if len(v) > c.limits.max_list_values:
        raise QueryError(
            f"the '{op}' object on '{f.name}' has more than {c.limits.max_list_values} fields "
            "(max_list_values)",
            spaceone_code="ERROR_INVALID_PARAMETER",
        )
    element: Filter = {}
    for key, value in v.items():
        check_free_path(f"{f.name}.{key}", str(key))
        path = _match_key(str(key)) if f.path == "errors" else str(key)
        if not isinstance(value, SCALAR_TYPES):
            raise QueryError(
                f"the value of '{key}' in the '{op}' condition on '{f.name}' must be a string, "
                "number, boolean or null",
                spaceone_code="ERROR_OPERATOR_DICT_VALUE_TYPE",
            )
        element[path] = value
    if not element:  # as python-core: `{$elemMatch: {}}`, any element at all
        return {f"{f.path}.0": {"$exists": True}}
    return {f.path: {"$elemMatch": element}}


def _match_key(key: str) -> str:
    head, dot, rest = key.partition(".")
    return snake_case(head) + dot + rest


def _regex(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    value = c.scalar(f, op, v, allow_null=True)
    if not isinstance(value, str):  # python-core: ERROR_DB_QUERY (MongoDB's "$regex has to be a string")
        raise QueryError(f"operator '{op}' on '{f.name}' needs a string pattern")
    return {f.path: c.regex(f, op, value, escaped=False)}


def _regex_in(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
    return combine_or([_regex(c, f, op, item) for item in c.values(f, op, v)])


def _comparison(mongo_op: str) -> OperatorFn:
    def compile_comparison(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
        value = _not_elements(f, op, c.scalar(f, op, v, allow_null=False))
        return {f.path: {mongo_op: c.typed(f, op, value)}}

    return compile_comparison


def _not_on_numbers(f: ResolvedField, op: str) -> None:
    if f.kind is Kind.INT:
        raise QueryError(f"operator '{op}' compares dates; '{f.name}' is a number")


def _datetime(mongo_op: str) -> OperatorFn:
    def compile_datetime(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
        _not_on_numbers(f, op)
        value = c.scalar(f, op, v, allow_null=False)
        return {f.path: {mongo_op: parse_datetime(value, f"the value of '{op}' on '{f.name}'")}}

    return compile_datetime


def _timediff(mongo_op: str) -> OperatorFn:
    def compile_timediff(c: _Compiler, f: ResolvedField, op: str, v: Any) -> Filter:
        _not_on_numbers(f, op)
        value = c.scalar(f, op, v, allow_null=False)
        return {f.path: {mongo_op: parse_timediff(str(value), c.now, f"'{op}' on '{f.name}'")}}

    return compile_timediff


OPERATORS: dict[str, OperatorFn] = {
    "eq": _eq,
    "not": _not,
    "exists": _exists,
    "contain": _contain,
    "not_contain": _not_contain,
    "in": _in,
    "not_in": _not_in,
    "contain_in": _contain_in,
    "not_contain_in": _not_contain_in,
    "match": _match,
    "regex": _regex,
    "regex_in": _regex_in,
    "starts_with": _starts_with,
    "has_elements": _has_elements,
    **{name: _comparison(f"${name}") for name in ("gt", "gte", "lt", "lte")},
    **{f"datetime_{name}": _datetime(f"${name}") for name in ("gt", "gte", "lt", "lte")},
    **{f"timediff_{name}": _timediff(f"${name}") for name in ("gt", "gte", "lt", "lte")},
}
PUBLIC_OPERATORS = tuple(name for name in OPERATORS if name not in ("starts_with", "has_elements"))


def legacy_filters_fallback(current: Filter, legacy: Filter) -> Filter:
    """A condition on ``filter``: read ``filters``, or ``filter`` where a document has no ``filters``."""
    return {
        "$or": [
            {"$and": [{"filters": {"$exists": True}}, current]},
            {"$and": [{"filters": {"$exists": False}}, legacy]},
        ]
    }


def combine_and(parts: Sequence[Filter]) -> Filter:
    parts = [part for part in parts if part]
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": list(parts)}


MATCH_NOTHING: Filter = {"_id": {"$in": []}}


def combine_or(parts: Sequence[Filter]) -> Filter:
    """OR of filters; OR of none matches nothing (as ``in []`` does)."""
    if not parts:
        return dict(MATCH_NOTHING)
    return parts[0] if len(parts) == 1 else {"$or": list(parts)}


# values -----------------------------------------------------------------------------------

INT64 = range(-(2**63), 2**63)


def storable(value: Any, what: str) -> Any:
    """Refuse values MongoDB cannot store: integers beyond 64 bits, text that is not Unicode."""
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
        raise QueryError(f"{what} is too large for a 64-bit integer")
    if isinstance(value, float) and not math.isfinite(value):
        raise QueryError(f"{what} must be a finite number")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise QueryError(f"{what} is not valid Unicode text") from None
    return value


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _number(text: str, what: str) -> int | float:
    text = text.strip()
    if not _NUMBER.match(text):
        raise QueryError(f"{what} must be a number, got {shorten(text)!r}")
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def public_condition(key: Any, operator: Any, value: Any) -> Condition:
    """A condition from a client: only SpaceONE's operators (not the internal ones)."""
    if isinstance(operator, str) and operator.lower() not in PUBLIC_OPERATORS:
        raise unknown_operator(operator, key)
    return Condition(key, operator, value)


def unknown_operator(operator: str, key: Any) -> QueryError:
    """The error for an operator that is not one of SpaceONE's: the closest one, or all of them."""
    hint = suggestion(operator.lower(), PUBLIC_OPERATORS, "operators")
    return QueryError(f"unknown operator '{shorten(operator)}' in the condition on '{shorten(str(key))}'{hint}")


# dates ------------------------------------------------------------------------------------


def parse_datetime(value: Any, what: str) -> datetime:
    """ISO-8601 → naive UTC (how dates are stored); a value without a zone means UTC. The forms
    python-core's ``dateutil.parser.isoparse`` reads (``2026-09``, ``2026-09-10t08:00z``, …)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = isoparse(value)
        except (ValueError, OverflowError):
            raise QueryError(f"{what} is not an ISO-8601 date: {shorten(value)!r}") from None
    else:
        raise QueryError(f"{what} must be an ISO-8601 date string, got {shorten(repr(value))}")
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise QueryError(f"{what} is outside the supported range of dates") from None
    return parsed


# python-core's grammar (``spaceone.core.utils.parse_timediff_query``), without its ``|``: inside
# ``[+|-]`` and ``[s|m|h|d|w]`` the bar is a character, not an alternative.
_TIMEDIFF = re.compile(r"^\s?(?P<base>now(?:/[dwm])?)\s?(?P<sign>[+-])\s?(?P<n>\d+)(?P<unit>[smhdw])\s?$")
_BASES = ("now", "now/d", "now/w", "now/m")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_timediff(value: str, now: datetime, what: str) -> datetime:
    """``now``, ``now/d`` (today 00:00), ``now/w`` (this Monday), ``now/m`` (the 1st), with an
    optional ``± N unit`` → a naive UTC instant. Spelled as python-core spells it: lower case, at
    most one space around the sign."""
    match = _TIMEDIFF.match(value)
    base = match["base"] if match else value.strip()
    if base not in _BASES:
        raise QueryError(f"the value of {what} is not a time difference like 'now/d - 7d': {shorten(value)!r}")
    instant = now.astimezone(UTC).replace(tzinfo=None)
    if base != "now":
        instant = instant.replace(hour=0, minute=0, second=0, microsecond=0)
        if base == "now/w":
            instant -= timedelta(days=instant.weekday())
        elif base == "now/m":
            instant = instant.replace(day=1)
    if match:
        try:
            delta = timedelta(**{_UNITS[match["unit"]]: int(match["n"][:20])})
            instant = instant + delta if match["sign"] == "+" else instant - delta
        except OverflowError:
            raise QueryError(f"the value of {what} is outside the supported range of dates") from None
    return instant


# sort -------------------------------------------------------------------------------------


def compile_sort(keys: Sequence[SortKey]) -> list[tuple[str, int]]:
    """Sort keys → a MongoDB sort with the ``_id`` ascending tie-breaker appended."""
    order: list[tuple[str, int]] = []
    for key in keys or DEFAULT_SORT:
        path = "_id" if key.key == "_id" else resolve_sort_field(key.key).path
        if path not in (p for p, _ in order):
            order.append((path, -1 if key.desc else 1))
    if "_id" not in (path for path, _ in order):
        order.append(("_id", 1))
    return order
