"""Root arguments a plan coerces once: only when the document fixes them and no resolver can
change them (no variable; no custom scalar such as JSON anywhere in their input types)."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, OperationDefinitionNode, parse

from schema import schema
from schema.compiled.arguments import fixed_arguments
from schema.internals import graphql_core_schema

QUERY_TYPE = graphql_core_schema(schema).query_type
assert QUERY_TYPE is not None


def _root(document: str) -> tuple[Any, FieldNode]:
    operation = parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    node = operation.selection_set.selections[0]
    assert isinstance(node, FieldNode)
    return QUERY_TYPE.fields[node.name.value], node


def test_literal_arguments_of_built_in_scalars_are_coerced_once() -> None:
    definition, node = _root('{ job(jobId: "job-1", domainId: "domain-a") { jobId } }')
    assert fixed_arguments(definition, node) == {"jobId": "job-1", "domainId": "domain-a"}


def test_omitted_arguments_take_their_defaults() -> None:
    definition, node = _root('{ job(jobId: "job-1") { jobId } }')
    assert fixed_arguments(definition, node) == {"jobId": "job-1", "domainId": None}


def test_an_argument_holding_a_variable_is_coerced_per_request() -> None:
    definition, node = _root('query ($id: ID!) { job(jobId: $id, domainId: "domain-a") { jobId } }')
    assert fixed_arguments(definition, node) is None


def test_input_types_reaching_a_json_value_are_coerced_per_request() -> None:
    # SearchQuery's filter conditions carry JSON values, which resolvers receive as they are
    definition, node = _root('{ jobs(query: {page: {limit: 5}}, domainId: "domain-a") { totalCount } }')
    assert fixed_arguments(definition, node) is None
