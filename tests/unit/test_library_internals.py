"""Every private library name the gateway relies on (schema/internals.py, and the stdlib's regex
parser in gateway/mongo/regex_safety.py) still exists and behaves as relied on: an upgrade that
removes or changes one fails here, not in production."""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.extensions import SchemaExtension

from schema.internals import (
    graphql_core_schema,
    is_default_resolver,
    is_leaf_type,
    provided_operation_name,
    raw_info,
)

seen: dict[str, Any] = {}


@strawberry.input
class Probe:
    name: str


@strawberry.type
class Query:
    plain: str = "plain"

    @strawberry.field
    def resolved(self, info: strawberry.Info) -> str:
        seen["raw_info"] = raw_info(info)
        return "resolved"


class RecordOperationName(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        seen["operation_name"] = provided_operation_name(self.execution_context)
        yield


SCHEMA = strawberry.Schema(Query, extensions=[RecordOperationName])


def test_the_graphql_core_schema_is_the_one_strawberry_executes() -> None:
    core = graphql_core_schema(SCHEMA)
    assert isinstance(core, GraphQLSchema)
    assert core.query_type is not None and set(core.query_type.fields) == {"plain", "resolved"}


def test_raw_info_is_graphql_cores_resolve_info_of_the_field() -> None:
    result = SCHEMA.execute_sync("query Named { alias: resolved }", root_value=Query())
    assert result.errors is None
    info = seen["raw_info"]
    assert info.field_name == "resolved" and info.parent_type.name == "Query"
    assert info.field_nodes[0].name.value == "resolved"
    assert info.field_nodes[0].alias is not None and info.field_nodes[0].alias.value == "alias"


def test_the_provided_operation_name_is_what_the_client_sent() -> None:
    assert (
        SCHEMA.execute_sync(
            "query A { plain } query B { plain }", root_value=Query(), operation_name="B"
        ).errors
        is None
    )
    assert seen["operation_name"] == "B"
    assert SCHEMA.execute_sync("query A { plain }", root_value=Query()).errors is None
    assert seen["operation_name"] is None  # Strawberry's operation_name would say "A"


def test_the_default_resolver_is_marked_and_own_resolvers_are_not() -> None:
    query_type = graphql_core_schema(SCHEMA).query_type
    assert isinstance(query_type, GraphQLObjectType)
    assert is_default_resolver(query_type.fields["plain"].resolve)
    assert not is_default_resolver(query_type.fields["resolved"].resolve)


def test_leaf_types_are_scalars_only() -> None:
    registry = SCHEMA.schema_converter.scalar_registry
    assert is_leaf_type(str, registry) and is_leaf_type(int, registry)
    assert not is_leaf_type(Probe, registry)


def test_the_regex_parser_gives_the_tree_regex_safety_walks() -> None:
    tree = sre_parse.parse(r"(a+)+|b(?=c)")
    (op, (_, branches)) = tree[0]
    assert op == sre.BRANCH and len(branches) == 2
    group = branches[0][0]
    assert group[0] in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT))
    low, high, repeated = group[1]
    assert (low, high) == (1, sre.MAXREPEAT) and repeated[0][0] == sre.SUBPATTERN
    assert branches[1][1][0] == sre.ASSERT
    assert sre_parse.parse("(a)?(?(1)b|c)")[1][0] == sre.GROUPREF_EXISTS
    assert re.compile("(a)").groups == 1


@strawberry.type
class Leaf:
    name: str = "leaf"
    size: int = 1


@strawberry.type
class Tree:
    @strawberry.field
    def leaf(self) -> Leaf:
        return Leaf()


COLLECTED = """
query Q($no: Boolean!) {
  a: leaf { name }
  ...F
  leaf @skip(if: $no) { size }
  ... on Tree { leaf { size } }
}
fragment F on Tree { leaf { name ...L } }
fragment L on Leaf { size }
"""


def test_field_collection_merges_like_execution() -> None:
    from graphql import FragmentDefinitionNode, OperationDefinitionNode, get_variable_values, parse

    from schema.internals import fragments_of, root_fields, subfields

    core = graphql_core_schema(strawberry.Schema(Tree))
    document = parse(COLLECTED)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = fragments_of([d for d in document.definitions if isinstance(d, FragmentDefinitionNode)])
    leaf_type = core.get_type("Leaf")
    assert core.query_type is not None and isinstance(leaf_type, GraphQLObjectType)
    for skipped, expected in ((True, ["name", "size"]), (False, ["name", "size"])):
        variables = get_variable_values(core, operation.variable_definitions, {"no": skipped})
        assert not isinstance(variables, list)
        groups = root_fields(core, fragments, variables, core.query_type, operation)
        assert list(groups) == ["a", "leaf"]
        # the fragment, the skipped or kept field and the inline fragment, merged in order
        assert len(groups["leaf"]) == (2 if skipped else 3)
        assert all(details.node.name.value == "leaf" for details in groups["leaf"])
        assert list(subfields(core, fragments, variables, operation, leaf_type, groups["leaf"])) == expected
        assert list(subfields(core, fragments, variables, operation, leaf_type, groups["a"])) == ["name"]
