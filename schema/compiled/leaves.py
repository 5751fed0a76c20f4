"""Output coercion of leaf types, as graphql-core completes them, for compiled plans.

Each leaf type's own ``coerce_output_value`` is the authority. Three shortcuts are exact by
construction: the dictionary of a Python enum's members (the first GraphQL value equal to the
member, as Strawberry's enum serialization finds it), "a ``str`` stays as it is" for
``String``/``ID`` (graphql-core's ``serialize_string``/``serialize_id`` return a ``str``
unchanged) and "an ``int`` within 32 bits stays as it is" for ``Int`` (``serialize_int``
returns it unchanged, and refuses any other ``int``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLString,
)


@dataclass(frozen=True, slots=True)
class LeafCoercion:
    """How a leaf value is sent: through ``serialize`` (the type's output coercion), except
    values of an exact type in ``unchanged``, and ``int`` values within ``int_range``, sent as
    they are."""

    serialize: Callable[[Any], Any]
    unchanged: tuple[type, ...] = ()
    int_range: tuple[int, int] | None = None


def enum_serializer(enum_type: GraphQLEnumType) -> Callable[[Any], Any]:
    """The enum type's serialization, with Python enum members looked up in a dictionary."""
    serialize = enum_type.coerce_output_value
    wrapped = getattr(enum_type, "wrapped_cls", None)
    if not (isinstance(wrapped, type) and issubclass(wrapped, Enum)):
        return serialize
    names: dict[Enum, str] = {}
    for member in wrapped:
        for name, value in enum_type.values.items():
            if member.value == value.value:
                names[member] = name
                break

    def coerce(value: Any) -> Any:
        if type(value) is wrapped and value in names:
            return names[value]
        return serialize(value)

    return coerce


def leaf_coercion(leaf_type: GraphQLLeafType) -> LeafCoercion:
    if isinstance(leaf_type, GraphQLEnumType):
        return LeafCoercion(enum_serializer(leaf_type))
    if leaf_type.coerce_output_value in (GraphQLString.coerce_output_value, GraphQLID.coerce_output_value):
        return LeafCoercion(leaf_type.coerce_output_value, (str,))
    if leaf_type.coerce_output_value is GraphQLInt.coerce_output_value:
        return LeafCoercion(leaf_type.coerce_output_value, int_range=(GRAPHQL_MIN_INT, GRAPHQL_MAX_INT))
    return LeafCoercion(leaf_type.coerce_output_value)
