"""Compiling an operation's selection into Python functions that build its response data.

For one validated query operation and the values of the variables its ``@skip``/``@include``
read, fields are collected exactly as graphql-core collects them (its ``collect_fields`` and
``collect_subfields``: merging, fragments, type conditions, directives, order), and each
selection set on each object type becomes one generated function ``(source, pending) → dict``:
a plain attribute read for a field without a resolver, the method of
:mod:`schema.compiled.resolvers` for one with, ``__typename`` as a constant, leaves through
their type's output coercion (:mod:`schema.compiled.leaves`), lists and nested objects through
the functions of their item and object types, abstract types by the exact Python class of the
value.

A plan produces only the ordinary outcome. Whatever standard execution would report as an
error (null in a non-null position, a value a leaf type cannot coerce, a value that is not a
list where a list is expected, an object of an unknown class, a failed load) raises
:class:`Fallback`, and the whole operation then runs through standard execution, which reports
it. Awaitable values (loads of nested fields that were not prefetched) are put on ``pending``
with the container and key to fill, and completed once they are settled.

Anything the compiler does not know (introspection, a field with a resolver it has no method
for, field extensions or arguments below the root) raises :class:`NotCompilable` while the plan
is built: the document is then always executed the standard way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLAbstractType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeNameMetaFieldDef,
    Undefined,
    VariableValues,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from schema.compiled.leaves import leaf_coercion
from schema.compiled.resolvers import COMPILED_RESOLVERS
from schema.internals import (
    DeferredFields,
    FieldDetailsList,
    Fragments,
    is_default_resolver,
    root_fields,
    subfields,
)

DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class NotCompilable(Exception):
    """The operation uses something plans do not cover; it runs the standard way."""


class Fallback(Exception):
    """A plan met what only standard execution reports exactly; the operation is re-run there."""


Pending = list[tuple[Any, dict[str, Any] | list[Any], Any, Callable[[Any, Any], Any]]]
"""Awaitables to settle: (awaitable, container, key or index, completion of the value)."""

ObjectFunction = Callable[[Any, Pending], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class RootField:
    """One root field of the operation: its response key, definition and nodes, and the
    completion of its resolver's value."""

    key: str
    name: str
    definition: GraphQLField
    nodes: list[FieldNode]
    complete: Callable[[Any, Pending], Any]


@dataclass(frozen=True, slots=True)
class Plan:
    root_type: GraphQLObjectType
    fields: tuple[RootField, ...]


def _fail(*_: Any) -> Any:
    raise Fallback


class _Source:
    """The generated module: functions and the constants they name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {
            "Fallback": Fallback,
            "Undefined": Undefined,
            "isawaitable": _is_awaitable,
        }
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def constant(self, value: Any, prefix: str = "c") -> str:
        name = self.name(prefix)
        self.names[name] = value
        return name

    def build(self) -> dict[str, Any]:
        namespace = dict(self.names)
        exec(compile("\n".join(self.lines), "<compiled plan>", "exec"), namespace)  # noqa: S102 - our own code
        return namespace


def _is_awaitable(value: Any) -> bool:
    return inspect.isawaitable(value)


class PlanBuilder:
    """Builds the :class:`Plan` of one operation under one set of directive values."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Fragments,
        operation: OperationDefinitionNode,
        variables: VariableValues,
        types_by_class: dict[type, GraphQLObjectType],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.fragment_nodes = {name: details.definition for name, details in fragments.items()}
        self.operation = operation
        self.variables = variables
        self.types_by_class = types_by_class
        self.source = _Source()
        self.tables: list[tuple[dict[type, ObjectFunction], list[tuple[type, str]]]] = []

    def build(self) -> Plan:
        root_type = self.schema.query_type
        if self.operation.operation.value != "query" or root_type is None:
            raise NotCompilable("only queries are compiled")
        try:
            grouped = root_fields(self.schema, self.fragments, self.variables, root_type, self.operation)
        except DeferredFields:
            raise NotCompilable("@defer") from None
        roots: list[tuple[str, str, GraphQLField, list[FieldNode], str]] = []
        for key, details in grouped.items():
            name = details[0].node.name.value
            if name.startswith("__") and name != "__typename":
                raise NotCompilable("introspection")
            # graphql-core's own __typename field resolves to the root type's name
            definition = TypeNameMetaFieldDef if name == "__typename" else root_type.fields.get(name)
            if definition is None:
                raise NotCompilable(f"unknown root field {name}")
            roots.append(
                (key, name, definition, [d.node for d in details], self._completion(definition.type, details))
            )
        namespace = self.source.build()
        for dispatch, functions in self.tables:  # the functions exist only now
            dispatch.update({cls: namespace[function] for cls, function in functions})
        return Plan(
            root_type,
            tuple(RootField(key, name, d, nodes, namespace[f]) for key, name, d, nodes, f in roots),
        )

    # completion of a value of a type: a function (value, pending) -> response value ------------

    def _completion(self, type_: GraphQLOutputType, details: FieldDetailsList) -> str:
        """The name of a generated function completing a value of ``type_``."""
        function = self.source.name("v")
        lines = [f"def {function}(v, P):"]
        lines += self._complete_lines("v", "return ", type_, details, "    ")
        self.source.lines += lines
        return function

    def _complete_lines(
        self, value: str, assign: str, type_: GraphQLOutputType, details: FieldDetailsList, indent: str
    ) -> list[str]:
        """Statements that complete ``value`` of ``type_`` and end with ``assign <result>``."""
        nullable = not isinstance(type_, GraphQLNonNull)
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        lines: list[str] = []
        if nullable:
            lines.append(f"{indent}if {value} is None:")
            lines.append(f"{indent}    {assign}None")
            lines.append(f"{indent}else:")
        else:
            lines.append(f"{indent}if {value} is None:")
            lines.append(f"{indent}    raise Fallback")
            lines.append(f"{indent}else:")
        body = indent + "    "
        if isinstance(inner, GraphQLLeafType):
            lines += self._leaf_lines(value, assign, inner, body)
        elif isinstance(inner, GraphQLList):
            item = self._completion(inner.of_type, details)
            lines.append(f"{body}if type({value}) is not list:")
            lines.append(f"{body}    raise Fallback")
            lines.append(f"{body}{assign}[{item}(i, P) for i in {value}]")
        elif isinstance(inner, GraphQLObjectType):
            function = self._object(inner, details)
            lines.append(f"{body}{assign}{function}({value}, P)")
        elif isinstance(inner, GraphQLAbstractType):
            dispatch = self._abstract(inner, details)
            lines.append(f"{body}{assign}{dispatch}.get(type({value}), _fail)({value}, P)")
            self.source.names["_fail"] = _fail
        else:
            raise NotCompilable(f"type {inner}")
        return lines

    def _leaf_lines(self, value: str, assign: str, leaf: GraphQLLeafType, indent: str) -> list[str]:
        coercion = leaf_coercion(leaf)
        serialize = self.source.constant(coercion.serialize, "s")
        lines: list[str] = []
        if coercion.int_range is not None:
            low, high = coercion.int_range
            lines.append(f"{indent}if type({value}) is int and {low} <= {value} <= {high}:")
            lines.append(f"{indent}    {assign}{value}")
            lines.append(f"{indent}else:")
            indent += "    "
        elif coercion.unchanged:
            types = self.source.constant(coercion.unchanged, "t")
            lines.append(f"{indent}if type({value}) in {types}:")
            lines.append(f"{indent}    {assign}{value}")
            lines.append(f"{indent}else:")
            indent += "    "
        lines.append(f"{indent}c = {serialize}({value})")
        lines.append(f"{indent}if c is None or c is Undefined:")
        lines.append(f"{indent}    raise Fallback")
        lines.append(f"{indent}{assign}c")
        return lines

    def _abstract(self, abstract: GraphQLAbstractType, details: FieldDetailsList) -> str:
        """A dictionary: Python class → the function completing an object of that class."""
        dispatch: dict[type, ObjectFunction] = {}
        table = self.source.constant(dispatch, "d")
        functions: list[tuple[type, str]] = []
        for cls, object_type in self.types_by_class.items():
            if self.schema.is_sub_type(abstract, object_type):
                functions.append((cls, self._object(object_type, details)))
        self.tables.append((dispatch, functions))
        return table

    def _object(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> str:
        """A generated function building the response object of ``object_type``'s selection."""
        try:
            collected = subfields(
                self.schema, self.fragments, self.variables, self.operation, object_type, details
            )
        except DeferredFields:
            raise NotCompilable("@defer") from None
        function = self.source.name("o")
        lines = [f"def {function}(s, P):", "    r = {}"]
        for key, field_details in collected.items():
            lines += self._field_lines(object_type, key, field_details)
        lines.append("    return r")
        self.source.lines += lines
        return function

    def _field_lines(self, parent: GraphQLObjectType, key: str, details: FieldDetailsList) -> list[str]:
        node = details[0].node
        name = node.name.value
        slot = f"r[{key!r}]"
        if name == "__typename":
            return [f"    {slot} = {parent.name!r}"]
        if name.startswith("__"):
            raise NotCompilable("introspection")
        field = parent.fields.get(name)
        if field is None:
            raise NotCompilable(f"unknown field {parent.name}.{name}")
        read = self._read(parent, name, field, [d.node for d in details])
        if read.awaitable:
            complete = self._completion(field.type, details)
            return [
                f"    v = {read.expression}",
                "    if isawaitable(v):",
                f"        P.append((v, r, {key!r}, {complete}))",
                f"        {slot} = None",
                "    else:",
                f"        {slot} = {complete}(v, P)",
            ]
        return [
            f"    v = {read.expression}",
            *self._complete_lines("v", f"{slot} = ", field.type, details, "    "),
        ]

    def _read(self, parent: GraphQLObjectType, name: str, field: GraphQLField, nodes: list[FieldNode]) -> _Read:
        definition = (field.extensions or {}).get(DEFINITION)
        if (
            not isinstance(definition, StrawberryField)
            or definition.extensions
            or definition.permission_classes
        ):
            raise NotCompilable(f"{parent.name}.{name} is not a plain Strawberry field")
        special = COMPILED_RESOLVERS.get((parent.name, name))
        if special is not None:
            if special.argument is None:
                return _Read(f"s.{special.method}()", awaitable=True)
            argument = self.source.constant(special.argument(nodes, self.fragment_nodes))
            return _Read(f"s.{special.method}({argument})", awaitable=True)
        if field.args or any(node.arguments for node in nodes):
            raise NotCompilable(f"{parent.name}.{name} takes arguments")
        if definition.base_resolver is not None or definition.default_resolver is not getattr:
            raise NotCompilable(f"{parent.name}.{name} has a resolver")
        if not is_default_resolver(field.resolve):
            raise NotCompilable(f"{parent.name}.{name} has a resolver")
        attribute = definition.python_name
        if not attribute.isidentifier():
            raise NotCompilable(f"attribute {attribute!r}")
        return _Read(f"s.{attribute}", awaitable=False)


@dataclass(frozen=True, slots=True)
class _Read:
    expression: str
    awaitable: bool


def types_by_class(schema: GraphQLSchema) -> dict[type, GraphQLObjectType]:
    """Each Strawberry object type of the schema by its Python class."""
    found: dict[type, GraphQLObjectType] = {}
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType):
            definition = (named.extensions or {}).get(DEFINITION)
            if isinstance(definition, StrawberryObjectDefinition) and isinstance(definition.origin, type):
                found[definition.origin] = named
    return found
