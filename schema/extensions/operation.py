"""GetOperation() of the GraphQL spec: a document with several operations needs an
``operationName`` (Strawberry would otherwise run the first one)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from schema.internals import provided_operation_name


class SingleOperation(SchemaExtension):
    """Refuses, before execution, a document of several operations sent without a name."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        provided = provided_operation_name(context)
        if document is not None and not provided:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                context.pre_execution_errors = [
                    *(context.pre_execution_errors or ()),
                    GraphQLError(
                        "the document has several operations: name the one to run in operationName",
                        extensions={"code": "OPERATION_RESOLUTION_FAILURE"},
                    ),
                ]
        yield
