"""The one module that reaches into private names of Strawberry (0.341) and graphql-core (3.3).
Each was chosen for speed or for a rule the library has no public hook for;
tests/unit/test_library_internals.py fails when an upgrade removes or changes one. The private
names used:

    strawberry.Schema._schema                       the graphql-core schema Strawberry built
    strawberry.Info._raw_info                       graphql-core's GraphQLResolveInfo of a field
    strawberry.types.arguments._is_leaf_type        "a scalar" as Strawberry's input conversion says
    ExecutionContext._provided_operation_name       the operationName the client sent (may be None)
    <resolver>._is_default                          marks Strawberry's default attribute resolver
    graphql.execution.collect_fields                graphql-core's field collection ("for internal
        (collect_fields, collect_subfields,         use only"): merging, fragments, type conditions,
         FragmentDetails, FieldDetailsList)             @skip/@include, exactly as execution does it

(``re._parser`` and ``re._constants`` are used only by :mod:`gateway.mongo.regex_safety`.)
ruff's SLF001 and TID251 refuse these names anywhere else (pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableValues,
)
from graphql.execution.collect_fields import FieldDetailsList as FieldDetailsList
from graphql.execution.collect_fields import (
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
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


Fragments = dict[str, Any]
"""A document's fragments by name, in the form field collection takes (:func:`fragments_of`)."""

FieldGroups = dict[str, FieldDetailsList]
"""Collected fields: response key -> the fields merged under it (each with its ``.node``), in
response order."""


class DeferredFields(Exception):
    """The selection uses ``@defer`` (incremental delivery): not a plain grouped field set."""


def fragments_of(definitions: list[FragmentDefinitionNode]) -> Fragments:
    return {d.name.value: FragmentDetails(d) for d in definitions}


def _groups(grouped: dict[str, FieldDetailsList], deferred: bool) -> FieldGroups:
    if deferred:
        raise DeferredFields
    return grouped


def root_fields(
    schema: GraphQLSchema,
    fragments: Fragments,
    variables: VariableValues,
    root_type: GraphQLObjectType,
    operation: OperationDefinitionNode,
) -> FieldGroups:
    """The operation's root fields as execution collects them."""
    collected = collect_fields(schema, fragments, variables, root_type, operation)
    return _groups(collected.grouped_field_set, bool(collected.new_defer_usages))


def subfields(
    schema: GraphQLSchema,
    fragments: Fragments,
    variables: VariableValues,
    operation: OperationDefinitionNode,
    object_type: GraphQLObjectType,
    details: FieldDetailsList,
) -> FieldGroups:
    """The subfields of ``details`` (the merged fields of one response key) on ``object_type``."""
    collected = collect_subfields(schema, fragments, variables, operation, object_type, details)
    return _groups(collected.grouped_field_set, bool(collected.new_defer_usages))
