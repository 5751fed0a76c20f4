"""SpaceONE ``StatisticsQuery`` (stage-list form) → one MongoDB aggregation pipeline. Pure.

Stages come in as neutral dataclasses; the compiler tracks the shape of the documents flowing
through the pipeline (job documents, or rows made by ``group`` / ``project`` / ``count``) so
that every name a client gives resolves either through the field catalogue (job documents) or
to an output name of an earlier stage (a group key becomes ``_id.<name>``). A client name never
becomes a path any other way, and client values enter expressions only as ``$literal``.

The pipeline returned here does NOT contain the domain ``$match``: the repository prepends it,
so it is always the first stage. No stage reaches another collection or runs JavaScript.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from gateway.errors import InvalidParameter, QueryError, QueryTooComplex, RequiredParameter, shorten, suggestion
from gateway.mongo.expr import All, Condition, Expr, SortKey
from gateway.mongo.fields import Kind, Target, check_free_path, resolve_job_field
from gateway.mongo.query import SCALAR_TYPES, parse_datetime
from gateway.settings import Settings

Stage = dict[str, Any]
Row = dict[str, Any]

# stages in -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unwind:
    path: str


@dataclass(frozen=True, slots=True)
class GroupKey:
    key: str
    name: str
    date_format: str | None = None


@dataclass(frozen=True, slots=True)
class SubField:
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class GroupField:
    name: str
    operator: str
    key: str | None = None
    fields: tuple[SubField, ...] = ()
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    keys: tuple[GroupKey, ...] = ()
    fields: tuple[GroupField, ...] = ()


@dataclass(frozen=True, slots=True)
class Count:
    name: str


@dataclass(frozen=True, slots=True)
class Sort:
    keys: tuple[SortKey, ...]


@dataclass(frozen=True, slots=True)
class Operand:
    """One operand of an arithmetic project operator: a field ``key`` or a number ``value``."""

    key: str | None = None
    value: float | int | None = None


@dataclass(frozen=True, slots=True)
class ProjectField:
    name: str
    key: str | None = None
    operator: str | None = None
    operands: tuple[Operand, ...] = ()


@dataclass(frozen=True, slots=True)
class Project:
    fields: tuple[ProjectField, ...]
    exclude_keys: bool = False


@dataclass(frozen=True, slots=True)
class Limit:
    count: int


@dataclass(frozen=True, slots=True)
class Skip:
    count: int


AggregateStage: TypeAlias = Unwind | Group | Count | Sort | Project | Limit | Skip


@dataclass(frozen=True, slots=True)
class StatsSpec:
    """A statistics request in neutral form. ``page`` is (1-based start, limit or None)."""

    where: Expr = field(default_factory=All)
    aggregate: tuple[AggregateStage, ...] | None = None
    distinct: str | None = None
    page: tuple[int, int | None] | None = None


@dataclass(frozen=True, slots=True)
class StatsLimits:
    """Bounds on one statistics query (their defaults are those of the settings)."""

    max_stages: int
    max_rows: int

    @classmethod
    def from_settings(cls, settings: Settings) -> StatsLimits:
        return cls(max_stages=settings.stats_max_stages, max_rows=settings.stats_max_rows)


# pipeline out --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatsPlan:
    """The compiled stages (after the domain ``$match``) and how to read their rows."""

    stages: list[Stage]
    keys: tuple[str, ...] = ()
    distinct: bool = False
    page: tuple[int, int | None] | None = None

    def rows_pipeline(self, max_rows: int) -> list[Stage]:
        """The stages, the page if any, and a ``$limit`` one past the row cap (to detect it)."""
        paging: list[Stage] = []
        if self.page is not None:
            start, limit = self.page
            if start > 1:
                paging.append({"$skip": start - 1})
            if limit:
                paging.append({"$limit": limit})
        return [*self.stages, *paging, {"$limit": max_rows + 1}]

    def count_pipeline(self) -> list[Stage]:
        """The stages and a ``$count`` (no row at all on empty input, on real MongoDB)."""
        return [*self.stages, {"$count": "total_count"}]

    def rows(self, documents: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Rows with the group keys lifted out of ``_id`` (distinct: the plain values)."""
        if self.distinct:
            return [document.get("_id") for document in documents]
        return [self._lift(document) for document in documents]

    def _lift(self, document: Mapping[str, Any]) -> Row:
        ids = document.get("_id")
        row: Row = {}
        if isinstance(ids, Mapping):  # a key missing from every document of a group stays missing
            row.update({name: ids[name] for name in self.keys if name in ids})
        row.update({key: value for key, value in document.items() if key != "_id"})
        return row


GROUP_OPERATORS = (
    "count",
    "sum",
    "average",
    "max",
    "min",
    "first",
    "last",
    "add_to_set",
    "merge_objects",
    "push",
)
PROJECT_OPERATORS = (
    "size",
    "array_to_object",
    "object_to_array",
    "sum",
    "add",
    "subtract",
    "multiply",
    "divide",
)
CONDITION_OPERATORS = {"eq": "$eq", "not": "$ne", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
_ACCUMULATORS = {
    "max": "$max",
    "min": "$min",
    "first": "$first",
    "last": "$last",
    "add_to_set": "$addToSet",
    "merge_objects": "$mergeObjects",
}
_DATE_PARTS = {"year": "$year", "month": "$month", "day": "$dayOfMonth"}
_DATE_FORMAT_TOKEN = re.compile(r"%.?")
_DATE_FORMAT_SPECIFIERS = set("YmdHMSLjwuUVG%")
_MAX_DATE_FORMAT = 64
_INTERNAL_PATHS = ("mark_error", "controller")


def compile_statistics(spec: StatsSpec, limits: StatsLimits) -> StatsPlan:
    """Compile a statistics request; raises a :class:`BadUserInput` naming the bad key."""
    if spec.distinct is not None and spec.aggregate:
        raise InvalidParameter(
            "give either 'aggregate' or 'distinct', not both", spaceone_code="ERROR_INVALID_PARAMETER"
        )
    if spec.distinct is not None:
        return _distinct(spec.distinct, spec.page)
    if not spec.aggregate:
        raise RequiredParameter("the statistics query needs 'aggregate' or 'distinct'")
    if len(spec.aggregate) > limits.max_stages:
        raise QueryTooComplex(
            f"'aggregate' has {len(spec.aggregate)} stages, more than the limit of "
            f"{limits.max_stages} (GATEWAY_STATS_MAX_STAGES)"
        )
    shape: _Shape = _JobShape()
    stages: list[Stage] = []
    for index, stage in enumerate(spec.aggregate):
        compiled, shape = _compile_stage(stage, shape, f"aggregate[{index}]")
        stages.extend(compiled)
    if isinstance(shape, _JobShape):  # raw job documents: never show internal fields
        stages.append({"$project": {"_id": 0, "mark_error": 0, "controller": 0}})
    keys = shape.keys if isinstance(shape, _RowShape) else ()
    return StatsPlan(stages, keys, page=spec.page)


def _distinct(name: str, page: tuple[int, int | None] | None) -> StatsPlan:
    shape = _JobShape()
    path, through = shape.path(name, "distinct")
    stages: list[Stage] = [{"$unwind": "$" + through}] if through else []
    stages += [
        {"$match": {path: {"$exists": True}}},
        {"$group": {"_id": "$" + path}},
        {"$sort": {"_id": 1}},
    ]
    return StatsPlan(stages, distinct=True, page=page)


def check_name(name: str, where: str) -> str:
    """An output name: non-empty, no leading ``$``, no dot, no null byte, not ``_id``."""
    if not isinstance(name, str) or not name:
        raise RequiredParameter(f"'{where}.name' is required")
    if name.startswith("$") or "." in name or "\x00" in name or name == "_id":
        raise InvalidParameter(
            f"'{where}.name' {shorten(name)!r} is not a valid name: it may not start with '$', contain "
            "a dot or a null byte, or be '_id'"
        )
    return name


# shapes: what the documents at a point of the pipeline look like -----------------------------


@dataclass(frozen=True, slots=True)
class _JobShape:
    """Job documents (possibly with ``errors`` unwound)."""

    unwound: frozenset[str] = frozenset()

    def path(self, name: str, where: str) -> tuple[str, str | None]:
        """(stored path, array to unwind first when the path runs through one, else None)."""
        if not isinstance(name, str) or not name:
            raise RequiredParameter(f"'{where}' needs a field name")
        resolved = resolve_job_field(name)
        if resolved.target is not Target.JOB or resolved.path.split(".")[0] in _INTERNAL_PATHS:
            raise QueryError(f"'{shorten(name)}' cannot be used in {where}; filter on it instead")
        head = resolved.path.split(".")[0]
        through = head if head == "errors" and resolved.path != "errors" else None
        return resolved.path, None if through in self.unwound else through

    def expr(self, name: str, where: str) -> Any:
        path, through = self.path(name, where)
        if through is None:
            return "$" + path
        # A path through an array as a $map: MongoDB and its stand-ins agree on it.
        rest = path[len(through) + 1 :]
        return {"$map": {"input": "$" + through, "as": "item", "in": "$$item." + rest}}

    def sort_path(self, name: str, where: str) -> str:
        return self.path(name, where)[0]

    def kind(self, name: str) -> Kind:
        return resolve_job_field(name).kind


@dataclass(frozen=True, slots=True)
class _RowShape:
    """Rows made by an earlier stage: group keys under ``_id``, other names at the top."""

    keys: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()

    def path(self, name: str, where: str) -> tuple[str, None]:
        if not isinstance(name, str) or not name:
            raise RequiredParameter(f"'{where}' needs a field name")
        check_free_path(name, name)
        head, dot, rest = name.partition(".")
        if head in self.fields:
            return name, None
        if head in self.keys:
            return f"_id.{head}{dot}{rest}", None
        given = (*self.keys, *self.fields)
        if close := difflib.get_close_matches(head, given, n=1):
            raise QueryError(f"unknown field '{shorten(name)}' in {where}; did you mean '{close[0]}'?")
        known = ", ".join(repr(n) for n in given) or "none"
        raise QueryError(f"unknown field '{shorten(name)}' in {where}: the earlier stages give {known}")

    def expr(self, name: str, where: str) -> Any:
        return "$" + self.path(name, where)[0]

    def sort_path(self, name: str, where: str) -> str:
        return self.path(name, where)[0]

    def kind(self, name: str) -> Kind:
        return Kind.ANY


_Shape: TypeAlias = _JobShape | _RowShape


# stages ------------------------------------------------------------------------------------


def _compile_stage(stage: AggregateStage, shape: _Shape, where: str) -> tuple[list[Stage], _Shape]:
    if isinstance(stage, Unwind):
        return _unwind(stage, shape, f"{where}.unwind")
    if isinstance(stage, Group):
        return _group(stage, shape, f"{where}.group")
    if isinstance(stage, Count):
        return _count(stage, f"{where}.count"), _RowShape(fields=(stage.name,))
    if isinstance(stage, Sort):
        return [_sort(stage, shape, f"{where}.sort")], shape
    if isinstance(stage, Project):
        return _project(stage, shape, f"{where}.project")
    if isinstance(stage, Limit):
        if stage.count < 1:
            raise InvalidParameter(f"'{where}.limit' must be 1 or more, got {stage.count}")
        return [{"$limit": stage.count}], shape
    if isinstance(stage, Skip):
        if stage.count < 0:
            raise InvalidParameter(f"'{where}.skip' must be 0 or more, got {stage.count}")
        return [{"$skip": stage.count}], shape
    raise InvalidParameter(f"'{where}' has no known stage kind")


def _unwind(stage: Unwind, shape: _Shape, where: str) -> tuple[list[Stage], _Shape]:
    if isinstance(shape, _RowShape):
        return [{"$unwind": {"path": "$" + shape.path(stage.path, where)[0]}}], shape
    path, through = shape.path(stage.path, where)
    if through is not None or shape.kind(stage.path) not in (Kind.ARRAY, Kind.ANY):
        raise InvalidParameter(f"'{where}.path' must name an array field, '{shorten(stage.path)}' is not one")
    return [{"$unwind": {"path": "$" + path}}], _JobShape(shape.unwound | {path})


def _count(stage: Count, where: str) -> list[Stage]:
    name = check_name(stage.name, where)
    # $facet always yields one document, so an empty input counts 0 on every server.
    return [
        {"$facet": {"rows": [{"$count": name}]}},
        {"$replaceRoot": {"newRoot": {"$ifNull": [{"$arrayElemAt": ["$rows", 0]}, {name: 0}]}}},
    ]


def _sort(stage: Sort, shape: _Shape, where: str) -> Stage:
    if not stage.keys:
        raise RequiredParameter(f"'{where}' needs 'key' or 'keys'")
    order: dict[str, int] = {}
    for key in stage.keys:
        order.setdefault(shape.sort_path(key.key, where), -1 if key.desc else 1)
    order.setdefault("_id", 1)  # ties come out in a stable order
    return {"$sort": order}


def _group(stage: Group, shape: _Shape, where: str) -> tuple[list[Stage], _Shape]:
    if not stage.keys and not stage.fields:
        raise RequiredParameter(f"'{where}' needs 'keys' or 'fields'")
    names: set[str] = set()
    ids: dict[str, Any] = {}
    for index, key in enumerate(stage.keys):
        label = f"{where}.keys[{index}]"
        _unique(check_name(key.name, label), names, label)
        ids[key.name] = _group_key(key, shape, label)
    accumulators: dict[str, Any] = {}
    for index, group_field in enumerate(stage.fields):
        label = f"{where}.fields[{index}]"
        _unique(check_name(group_field.name, label), names, label)
        accumulators[group_field.name] = _accumulator(group_field, shape, label)
    compiled = {"$group": {"_id": ids or None, **accumulators}}
    return [compiled], _RowShape(tuple(ids), tuple(accumulators))


def _unique(name: str, seen: set[str], where: str) -> None:
    if name in seen:
        raise InvalidParameter(f"'{where}.name' {shorten(name)!r} is used twice in the same stage")
    seen.add(name)


def _group_key(key: GroupKey, shape: _Shape, where: str) -> Any:
    value = shape.expr(key.key, f"{where}.key")
    if key.date_format is None:
        return value
    part = _DATE_PARTS.get(key.date_format.lower())
    if part is not None:
        operation: Any = {part: value}
    else:
        operation = {"$dateToString": {"format": _date_format(key.date_format, where), "date": value}}
    # Only dates are converted: a null or missing date stays null, as in MongoDB.
    return {"$cond": [{"$gt": [value, None]}, operation, None]}


def _date_format(text: str, where: str) -> str:
    tokens = _DATE_FORMAT_TOKEN.findall(text)
    bad = [token for token in tokens if len(token) < 2 or token[1] not in _DATE_FORMAT_SPECIFIERS]
    # a leading `$` would make MongoDB read the format as a field path
    if len(text) > _MAX_DATE_FORMAT or bad or "\x00" in text or text.startswith("$"):
        raise InvalidParameter(
            f"'{where}.date_format' {shorten(text)!r} is not 'year', 'month', 'day' or a date format of "
            "%Y %m %d %H %M %S %L %j %w %u %U %V %G (at most 64 characters)",
            parameter=f"{where}.date_format",
        )
    return text


def _accumulator(group_field: GroupField, shape: _Shape, where: str) -> Any:
    operator = (group_field.operator or "").lower()
    if operator not in GROUP_OPERATORS:
        raise QueryError(
            f"unknown operator {shorten(group_field.operator or '')!r} in '{where}.operator'"
            + suggestion(operator, GROUP_OPERATORS, "operators")
        )
    if group_field.conditions and operator not in ("count", "sum", "average"):
        raise InvalidParameter(f"'{where}.conditions' apply only to count, sum and average")
    condition = _conditions(group_field.conditions, shape, f"{where}.conditions")
    if operator == "count":
        return {"$sum": 1 if condition is None else {"$cond": [condition, 1, 0]}}
    if operator == "push" and group_field.fields:
        return {"$push": _push_object(group_field.fields, shape, f"{where}.fields")}
    if not group_field.key:
        raise RequiredParameter(f"'{where}.key' is required by operator '{operator}'")
    value = shape.expr(group_field.key, f"{where}.key")
    if operator == "sum":
        return {"$sum": value if condition is None else {"$cond": [condition, value, 0]}}
    if operator == "average":
        return {"$avg": value if condition is None else {"$cond": [condition, value, None]}}
    if operator == "push":
        return {"$push": value}
    return {_ACCUMULATORS[operator]: value}


def _push_object(fields: Sequence[SubField], shape: _Shape, where: str) -> dict[str, Any]:
    names: set[str] = set()
    pushed: dict[str, Any] = {}
    for index, sub in enumerate(fields):
        label = f"{where}[{index}]"
        _unique(check_name(sub.name, label), names, label)
        pushed[sub.name] = shape.expr(sub.key, f"{label}.key")
    return pushed


def _conditions(conditions: Sequence[Condition], shape: _Shape, where: str) -> Any:
    if not conditions:
        return None
    parts = [_condition(cond, shape, f"{where}[{i}]") for i, cond in enumerate(conditions)]
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _condition(cond: Condition, shape: _Shape, where: str) -> Any:
    operator = cond.operator.lower() if isinstance(cond.operator, str) else ""
    if operator not in CONDITION_OPERATORS:
        raise QueryError(
            f"unknown operator {shorten(str(cond.operator))!r} in '{where}.o'"
            + suggestion(operator, tuple(CONDITION_OPERATORS), "operators")
        )
    value = cond.value
    if not isinstance(value, SCALAR_TYPES):
        raise QueryError(
            f"'{where}.v' must be a string, number, boolean or null", spaceone_code="ERROR_OPERATOR_VALUE_TYPE"
        )
    if value is not None and shape.kind(cond.key) is Kind.DATE:
        value = parse_datetime(value, f"'{where}.v'")
    return {CONDITION_OPERATORS[operator]: [shape.expr(cond.key, f"{where}.k"), {"$literal": value}]}


def _project(stage: Project, shape: _Shape, where: str) -> tuple[list[Stage], _Shape]:
    if not stage.fields:
        raise RequiredParameter(f"'{where}.fields' is required")
    names: set[str] = set()
    projection: dict[str, Any] = {}
    for index, project_field in enumerate(stage.fields):
        label = f"{where}.fields[{index}]"
        _unique(check_name(project_field.name, label), names, label)
        projection[project_field.name] = _project_value(project_field, shape, label)
    keep_keys = isinstance(shape, _RowShape) and not stage.exclude_keys
    if not keep_keys:
        projection["_id"] = 0
    keys = shape.keys if keep_keys and isinstance(shape, _RowShape) else ()
    return [{"$project": projection}], _RowShape(keys, tuple(projection.keys() - {"_id"}))


def _project_value(project_field: ProjectField, shape: _Shape, where: str) -> Any:
    operator = (project_field.operator or "").lower() or None
    if operator is not None and operator not in PROJECT_OPERATORS:
        raise QueryError(
            f"unknown operator {shorten(project_field.operator or '')!r} in '{where}.operator'"
            + suggestion(operator, PROJECT_OPERATORS, "operators")
        )
    if operator in ("add", "subtract", "multiply", "divide") or (operator == "sum" and project_field.operands):
        return _arithmetic(operator, project_field, shape, where)
    if project_field.operands:
        raise InvalidParameter(f"'{where}.operands' apply only to sum, add, subtract, multiply and divide")
    if not project_field.key:
        raise RequiredParameter(f"'{where}.key' is required")
    value = shape.expr(project_field.key, f"{where}.key")
    if operator is None:
        return value
    if operator == "size":  # null, not an error, when the value is not an array
        return {"$cond": [{"$isArray": value}, {"$size": value}, None]}
    if operator == "sum":
        return {"$sum": value}
    return {"$arrayToObject" if operator == "array_to_object" else "$objectToArray": value}


def _arithmetic(operator: str, project_field: ProjectField, shape: _Shape, where: str) -> Any:
    operands: list[Any] = []
    if project_field.key:
        operands.append(shape.expr(project_field.key, f"{where}.key"))
    for index, operand in enumerate(project_field.operands):
        operands.append(_operand(operand, shape, f"{where}.operands[{index}]"))
    binary = operator in ("subtract", "divide")
    if len(operands) < 2 or (binary and len(operands) != 2):
        raise InvalidParameter(
            f"'{where}': operator '{operator}' needs {'exactly' if binary else 'at least'} two "
            "operands ('key' and/or 'operands')"
        )
    if operator != "divide":
        return {f"${operator}": operands}
    divisor = operands[1]
    if isinstance(divisor, dict) and "$literal" in divisor:
        if divisor["$literal"] == 0:
            raise InvalidParameter(f"'{where}': division by zero (the divisor is 0)")
        return {"$divide": operands}
    # A field divisor of 0 gives null rather than a server error.
    return {"$cond": [{"$eq": [divisor, 0]}, None, {"$divide": operands}]}


def _operand(operand: Operand, shape: _Shape, where: str) -> Any:
    if (operand.key is None) == (operand.value is None):
        raise InvalidParameter(f"'{where}' needs exactly one of 'key' or 'value'")
    if operand.key is not None:
        return shape.expr(operand.key, f"{where}.key")
    if isinstance(operand.value, bool) or not isinstance(operand.value, (int, float)):
        raise InvalidParameter(f"'{where}.value' must be a number")
    return {"$literal": operand.value}
