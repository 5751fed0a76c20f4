"""The one module that reaches into private names of Strawberry (0.341). Each was chosen for
speed or for a rule Strawberry has no public hook for; tests/unit/test_library_internals.py
fails when an upgrade removes or changes one. The private names used:

    strawberry.Schema._schema                       the graphql-core schema Strawberry built
    strawberry.Info._raw_info                       graphql-core's GraphQLResolveInfo of a field
    strawberry.types.arguments._is_leaf_type        "a scalar" as Strawberry's input conversion says
    ExecutionContext._provided_operation_name       the operationName the client sent (may be None)
    <resolver>._is_default                          marks Strawberry's default attribute resolver

(``re._parser`` and ``re._constants`` are used only by :mod:`gateway.mongo.regex_safety`.)
ruff's SLF001 and TID251 refuse these names anywhere else (pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema
from strawberry.types import ExecutionContext, Info
from strawberry.types.arguments import _is_leaf_type


def graphql_core_schema(schema: Any) -> GraphQLSchema:
    """The graphql-core schema of a Strawberry schema."""
    core: GraphQLSchema = schema._schema
    return core


def raw_info(info: Info[Any, Any]) -> GraphQLResolveInfo[Any]:
    """graphql-core's resolve info behind Strawberry's ``Info``."""
    return info._raw_info


def is_leaf_type(type_: Any, scalar_registry: Mapping[Any, Any]) -> bool:
    """A scalar type (built in or of the schema's scalar registry), as Strawberry decides it."""
    return bool(_is_leaf_type(type_, scalar_registry))


def provided_operation_name(context: ExecutionContext) -> str | None:
    """The ``operationName`` the client sent (Strawberry's ``operation_name`` guesses one)."""
    name: str | None = getattr(context, "_provided_operation_name", None)
    return name


def is_default_resolver(resolve: Callable[..., Any] | None) -> bool:
    """Strawberry's resolver of a plain attribute field (no resolver of its own)."""
    return bool(getattr(resolve, "_is_default", False))
