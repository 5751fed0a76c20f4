"""A root field's arguments coerced once per document, when the document fixes them.

graphql-core coerces a field's arguments from its node on every execution. When no argument
holds a variable, the result is the same every time, so a plan keeps it. Only values that no
resolver can change are kept: the arguments' input types must reach no custom scalar (a JSON
value is handed to a resolver as it is, and a shared one could carry one request's change
into the next); built-in scalars, enums, input objects and lists are converted into new
objects for every call by the resolver wrapper.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLScalarType,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    is_specified_scalar_type,
)
from graphql.execution import get_argument_values


def fixed_arguments(definition: GraphQLField, node: FieldNode) -> dict[str, Any] | None:
    """The coerced arguments of ``node`` when the document fixes them, else None (coerce
    them per request)."""
    if any(_holds_variable(argument.value) for argument in node.arguments or ()):
        return None
    if not all(_immutable(argument.type, set()) for argument in definition.args.values()):
        return None
    try:
        return get_argument_values(definition, node)
    except Exception:  # noqa: BLE001 - a validated document coerces; else per request, as before
        return None


def _holds_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_holds_variable(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_holds_variable(field.value) for field in value.fields)
    return False


def _immutable(type_: GraphQLInputType, seen: set[str]) -> bool:
    """Whether every value of ``type_`` coerces to built-in scalars, enums and containers."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType):
        return is_specified_scalar_type(named)
    if isinstance(named, GraphQLInputObjectType):
        if named.name in seen:
            return True
        seen.add(named.name)
        return all(_immutable(field.type, seen) for field in named.fields.values())
    return True  # an enum
