"""Input objects built from a plan made once per type.

Strawberry converts an input value field by field, resolving each field's type and GraphQL name
again on every request. The plans here do that resolution once, when the schema is built, and
are installed through Strawberry's ``from_input`` hook of each input type; the objects they build
equal Strawberry's own (tests/graphql/test_input_conversion.py compares both). A type the plans
do not know (lazy, ``Maybe``, ``GlobalID``) is left to Strawberry's conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any

from graphql import GraphQLInputObjectType
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import has_enum_definition
from strawberry.types.unset import UNSET

from schema.internals import graphql_core_schema, is_leaf_type

Convert = Callable[[Any, InputContext], Any]
Registry = Mapping[Any, Any]
DEFINITION_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


def _same(value: Any, context: InputContext) -> Any:
    return value


def _is_leaf(type_: Any, registry: Registry) -> bool:
    """A scalar or an enum: its value is passed on as graphql-core coerced it."""
    return is_leaf_type(type_, registry) or has_enum_definition(type_)


class _Plans:
    """The plans of one schema, made on first use (input types may refer to themselves)."""

    def __init__(self, config: StrawberryConfig, registry: Registry) -> None:
        self.config = config
        self.registry = registry
        self.by_type: dict[type, InputPlan] = {}

    def of(self, cls: type) -> InputPlan:
        if cls not in self.by_type:
            self.by_type[cls] = plan = InputPlan(cls)
            plan.fill(self)
        return self.by_type[cls]


def _converter(type_: Any, plans: _Plans) -> Convert:
    """How to convert a value of ``type_``, decided once."""
    registry = plans.registry
    if isinstance(type_, StrawberryMaybe):
        return _strawberry(type_)
    if isinstance(type_, StrawberryOptional):
        inner = _converter(type_.of_type, plans)
        return inner if inner is _same else _optional(inner)
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        bare = item.of_type if isinstance(item, StrawberryOptional) else item
        if not isinstance(item, StrawberryMaybe) and _is_leaf(bare, registry):
            return _copied_list
        return _list(_converter(item, plans))
    if _is_leaf(type_, registry):
        return _same
    if has_object_definition(type_) and type_.__strawberry_definition__.is_input:
        return plans.of(type_).build_nested
    return _strawberry(type_)


def _optional(inner: Convert) -> Convert:
    def convert(value: Any, context: InputContext) -> Any:
        return value if value is None or value is UNSET else inner(value, context)

    return convert


def _copied_list(value: Any, context: InputContext) -> Any:
    # graphql-core gives the same default list to every request: never hand it out
    return value if value is None or value is UNSET else list(value)


def _list(item: Convert) -> Convert:
    def convert(value: Any, context: InputContext) -> Any:
        if value is None or value is UNSET:
            return value
        return [item(element, context) for element in value]

    return convert


def _strawberry(type_: Any) -> Convert:
    def convert(value: Any, context: InputContext) -> Any:
        return context.convert(value, type_)

    return convert


class InputPlan:
    """The fields of one input type: GraphQL name, Python name and how to convert the value."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.implicit_none: dict[str, None] = {}
        self.fields: list[tuple[str, str, Convert]] = []

    def fill(self, plans: _Plans) -> None:
        definition: StrawberryObjectDefinition = self.cls.__strawberry_definition__  # type: ignore[attr-defined]
        # Strawberry's implicit default: None for every field without a default of its own
        self.implicit_none = {
            field.python_name: None
            for field in definition.fields
            if field.default_value is MISSING and field.default_factory is MISSING
        }
        self.fields = [
            (
                plans.config.name_converter.from_field(field),
                field.python_name,
                _converter(field.resolve_type(type_definition=definition), plans),
            )
            for field in definition.fields
        ]

    def build(self, cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        """The ``from_input`` hook: ``cls(**fields)`` as Strawberry would build it."""
        kwargs = dict(self.implicit_none)
        for graphql_name, python_name, convert in self.fields:
            if graphql_name in value:
                kwargs[python_name] = convert(value[graphql_name], context)
        return cls(**kwargs)

    def build_nested(self, value: Any, context: InputContext) -> Any:
        if value is None or value is UNSET:
            return value
        return self.build(self.cls, value, context)


def install_input_plans(schema: Any) -> None:
    """Give every input object type of ``schema`` a plan, as its ``from_input`` hook."""
    plans = _Plans(schema.config, schema.schema_converter.scalar_registry)
    for graphql_type in graphql_core_schema(schema).type_map.values():
        if not isinstance(graphql_type, GraphQLInputObjectType):
            continue
        definition = graphql_type.extensions.get(DEFINITION_BACKREF)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        hook = definition.from_input
        if hook is None or isinstance(getattr(hook, "__self__", None), InputPlan):
            definition.from_input = plans.of(definition.origin).build
