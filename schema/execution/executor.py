"""A fast path for leaf fields that are plain attributes.

Most of the fields in a response are scalars and enums read straight off an object (``Job`` is
built once from its document). For them graphql-core's per-field machinery (a resolve-info
object, Strawberry's resolver wrapper, middleware, ``complete_value``) costs several times the
read itself. :class:`LeafFastPathExecutor` reads such a field with ``getattr`` and coerces it with
the leaf type's own output coercion, and sends every other field down the normal path.

A field takes the fast path only if all of these hold, decided once per field of the schema:
its type is a scalar or an enum (nullable or not), it has no arguments, its Strawberry field has
no resolver and no field extensions (permission classes are extensions), and Strawberry reads it
with the plain ``getattr`` default resolver. Per request, the path is off when any middleware is
active (a schema extension that implements ``resolve``); per selection, a field node carrying a
directive other than ``@include``/``@skip`` (already applied when fields are collected) takes the
normal path.

Only the ordinary outcome is produced here: a value that coerces to a non-null result, or null
in a nullable position. Anything else (null in a non-null position, an exception while reading
or coercing, an awaitable or an exception instance as the value, a coercion that yields null)
is handed to the normal path, which reads the attribute again and reports it exactly as it
always does. This relies on attribute reads and output coercion being free of side effects,
which holds for plain attributes and scalar serializers.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from graphql.type.scalars import serialize_id, serialize_string
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from schema.internals import is_default_resolver

TRANSPARENT_DIRECTIVES = frozenset({"include", "skip"})
"""Directives fully applied while fields are collected, so they do not affect resolving."""


PLAIN_TYPES = frozenset({str, int, float, bool, dict, list, datetime})
"""Types whose values are neither awaitable nor exceptions (checked by exact type)."""


@dataclass(frozen=True, slots=True)
class LeafField:
    """How to produce one fast-path field: the attribute to read and the coercion to apply.

    ``unchanged`` holds the exact types the coercion returns as they are (``str`` for
    ``String`` and ``ID``), so such values skip the call.
    """

    attribute: str
    coerce: Callable[[Any], Any]
    nullable: bool
    unchanged: frozenset[type] = frozenset()


def enum_output(enum_type: GraphQLEnumType) -> Callable[[Any], Any]:
    """The enum type's output coercion, with Python enum members looked up in a dictionary.

    Strawberry's ``coerce_output_value`` compares a member's value with every GraphQL value in
    order and returns the first name that matches; the dictionary holds that same first match
    for each member, computed once. Other values go to the type's own coercion.
    """
    coerce_output_value = enum_type.coerce_output_value
    wrapped = getattr(enum_type, "wrapped_cls", None)
    if not (isinstance(wrapped, type) and issubclass(wrapped, Enum)):
        return coerce_output_value
    names: dict[Enum, str] = {}
    for member in wrapped:
        for name, value in enum_type.values.items():
            if member.value == value.value:
                names[member] = name
                break

    def coerce(value: Any) -> Any:
        if type(value) is wrapped and value in names:
            return names[value]
        return coerce_output_value(value)

    return coerce


def leaf_field(field: GraphQLField) -> LeafField | None:
    """The fast-path recipe for a schema field, or None when it must take the normal path."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or field.args:
        return None
    if definition.base_resolver is not None or definition.extensions:
        return None
    if definition.default_resolver is not getattr or not is_default_resolver(field.resolve):
        return None
    nullable = not is_non_null_type(field.type)
    leaf_type = field.type if nullable else field.type.of_type  # type: ignore[union-attr]
    if not is_leaf_type(leaf_type):
        return None
    if isinstance(leaf_type, GraphQLEnumType):
        return LeafField(definition.python_name, enum_output(leaf_type), nullable)
    coerce = leaf_type.coerce_output_value
    unchanged = frozenset({str}) if coerce in (serialize_string, serialize_id) else frozenset()
    return LeafField(definition.python_name, coerce, nullable, unchanged)


_plans: weakref.WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], LeafField | None]] = (
    weakref.WeakKeyDictionary()
)


def _schema_plans(schema: GraphQLSchema) -> dict[tuple[str, str], LeafField | None]:
    plans = _plans.get(schema)
    if plans is None:
        plans = _plans[schema] = {}
    return plans


Selection = list[tuple[str, FieldDetailsList, LeafField | None]]
"""A grouped field set in order: response name, its field nodes, and its fast-path recipe."""


class LeafFastPathExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core executor with the leaf-field fast path (see the module docstring).

    ``execute_fields`` is graphql-core 3.3's own loop with the fast path inlined: a fast-path
    field costs an attribute read and a coercion, with no ``Path`` and no ``execute_field``
    call unless it has to take the normal path.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self.leaf_fast_path = not (manager is not None and manager.middlewares)
        self._leaf_fields = _schema_plans(self.schema)
        self._selections: dict[int, tuple[GroupedFieldSet, Selection]] = {}

    def _leaf_field(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> LeafField | None:
        for details in field_details_list:
            for directive in details.node.directives or ():
                if directive.name.value not in TRANSPARENT_DIRECTIVES:
                    return None
        field_name = field_details_list[0].node.name.value
        key = (parent_type.name, field_name)
        if key not in self._leaf_fields:
            field = self.schema.get_field(parent_type, field_name)
            self._leaf_fields[key] = leaf_field(field) if field is not None else None
        return self._leaf_fields[key]

    def _selection(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> Selection:
        """The plan of a grouped field set, built once per request (graphql-core reuses the
        same grouped field set for every object of a list; it stays alive with the cache)."""
        cached = self._selections.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1]
        selection = [
            (name, details, self._leaf_field(parent_type, details))
            for name, details in grouped_field_set.items()
        ]
        self._selections[id(grouped_field_set)] = (grouped_field_set, selection)
        return selection

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if not self.leaf_fast_path:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, leaf in self._selection(parent_type, grouped_field_set):
                if leaf is not None:
                    try:
                        value = getattr(source_value, leaf.attribute)
                        if type(value) in leaf.unchanged:
                            results[response_name] = value
                            continue
                        if value is None:
                            if leaf.nullable:
                                results[response_name] = None
                                continue
                        elif type(value) in PLAIN_TYPES or not (
                            isinstance(value, Exception) or is_awaitable(value)
                        ):
                            coerced = leaf.coerce(value)
                            if coerced is not None and coerced is not Undefined:
                                results[response_name] = coerced
                                continue
                    except Exception:  # noqa: BLE001, S110 - the normal path below reports it
                        pass
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return _await_fields(results, awaitable_fields)


async def _await_fields(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
    """The awaitable fields of ``results`` replaced by their values (as graphql-core does)."""
    if len(awaitable_fields) == 1:
        field = awaitable_fields[0]
        results[field] = await results[field]
    else:
        awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
    return results
