"""Input objects built by the plans (schema/input_conversion.py) equal Strawberry's own.

Each value is coerced by graphql-core exactly as for a request (defaults filled in, enums as
Python values), then converted twice: through the plans installed on the gateway schema, and
through Strawberry's field-by-field conversion with the plans taken off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, Undefined, coerce_input_value
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition

from schema import build_schema
from schema.execution.input_conversion import InputPlan
from schema.fields.stats import StatisticsQuery
from schema.types.filters import JobFilter
from schema.types.inputs import JobOrder, SearchQuery

SCHEMA = build_schema()

CASES: list[tuple[type, dict[str, Any]]] = [
    (SearchQuery, {}),
    (SearchQuery, {"page": {"limit": 100}}),
    (SearchQuery, {"page": {"start": 3, "limit": None}, "countOnly": True, "minimal": False}),
    (
        SearchQuery,
        {
            "filter": [
                {"k": "status", "v": "ERROR", "o": "EQ"},
                {"k": "filter.tags", "v": ["a", {"b": [1, None, 2.5]}], "o": "IN"},
                {"k": "job_id", "o": "EXISTS"},
            ],
            "filterOr": [{"k": "total_tasks", "v": 3, "o": "GTE"}],
            "sort": {"keys": [{"key": "created_at", "desc": True}, {"key": "job_id"}]},
            "only": ["job_id", "status"],
            "keyword": " job 12 ",
        },
    ),
    (SearchQuery, {"sort": {"key": "status"}, "filter": None, "only": None}),
    (JobFilter, {}),
    (
        JobFilter,
        {
            "status": {"in": ["ERROR", "TIMEOUT"], "ne": "SUCCESS"},
            "jobId": {"startsWith": "job-", "nin": ["job-1"], "isNull": False},
            "totalTasks": {"gt": 1, "in": [2, 3]},
            "createdAt": {"gte": "2026-01-01T00:00:00Z", "exists": True},
            "hasErrors": True,
            "keyword": "x",
            "and": [{"or": [{"errorCode": {"eq": "E1"}}, {"not": {"projectId": {"eq": "p"}}}]}, {"and": []}],
        },
    ),
    (JobOrder, {"field": "CREATED_AT"}),
    (JobOrder, {"field": "STATUS", "direction": "DESC"}),
    (StatisticsQuery, {"distinct": "status", "page": {"limit": 5}}),
    (
        StatisticsQuery,
        {
            "filter": [{"k": "status", "v": "ERROR", "o": "EQ"}],
            "keyword": "job",
            "aggregate": [
                {"unwind": {"path": "errors"}},
                {
                    "group": {
                        "keys": [
                            {"key": "status", "name": "status"},
                            {"key": "created_at", "name": "day", "dateFormat": "day"},
                        ],
                        "fields": [
                            {
                                "name": "count",
                                "operator": "COUNT",
                                "conditions": [{"k": "total_tasks", "v": 1, "o": "GT"}],
                            },
                            {"name": "jobs", "operator": "PUSH", "fields": [{"key": "job_id", "name": "id"}]},
                            {"name": "tasks", "key": "total_tasks", "operator": "SUM"},
                        ],
                    }
                },
                {
                    "project": {
                        "fields": [
                            {
                                "name": "ratio",
                                "key": "tasks",
                                "operator": "DIVIDE",
                                "operands": [{"key": "count"}, {"value": 2.5}],
                            },
                            {"name": "count", "key": "count"},
                        ],
                        "excludeKeys": True,
                    }
                },
                {"sort": {"key": "count", "desc": True}},
                {"count": {"name": "rows"}},
                {"skip": 1},
                {"limit": 10},
            ],
            "page": {"start": 2},
        },
    ),
]


def _hooks() -> list[StrawberryObjectDefinition]:
    return [
        graphql_type.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
        for graphql_type in SCHEMA._schema.type_map.values()
        if isinstance(graphql_type, GraphQLInputObjectType)
    ]


@contextmanager
def strawberry_conversion() -> Iterator[None]:
    """Take the plans off every input type for the duration."""
    definitions = _hooks()
    saved = [definition.from_input for definition in definitions]
    for definition in definitions:
        definition.from_input = None
    try:
        yield
    finally:
        for definition, hook in zip(definitions, saved, strict=True):
            definition.from_input = hook


def _convert(cls: type, value: Any) -> Any:
    return convert_argument(value, cls, SCHEMA.schema_converter.scalar_registry, SCHEMA.config)


def test_every_input_type_has_a_plan() -> None:
    assert all(isinstance(definition.from_input.__self__, InputPlan) for definition in _hooks())


@pytest.mark.parametrize(("cls", "literal"), CASES)
def test_plans_build_what_strawberry_builds(cls: type, literal: dict[str, Any]) -> None:
    graphql_type = SCHEMA._schema.get_type(cls.__strawberry_definition__.name)  # type: ignore[attr-defined]
    value = coerce_input_value(literal, graphql_type)
    assert value is not Undefined, "the case is not a valid input value"
    planned = _convert(cls, value)
    with strawberry_conversion():
        expected = _convert(cls, value)
    assert planned == expected
    assert repr(planned) == repr(expected)  # same classes all the way down, UNSET kept


def test_a_default_list_is_never_shared() -> None:
    value = coerce_input_value({"only": ["job_id"]}, SCHEMA._schema.get_type("SearchQuery"))
    converted = _convert(SearchQuery, value)
    assert converted.only == value["only"] and converted.only is not value["only"]
