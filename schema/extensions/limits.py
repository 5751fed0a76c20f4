"""What one request may cost: every limit is a setting and is reported as QUERY_TOO_COMPLEX (or
COST_ESTIMATED_TOO_EXPENSIVE) with the name of the setting that bounds it.

- document size and shape, checked once per document (cached with validation): tokens
  (Strawberry's ``MaxTokensLimiter``; its parse error is coded in ``schema.extensions.errors``);
  expanded size, depth, aliases, root fields and introspection depth, measured before validation
  (``schema.extensions.document_bounds``); nesting of literal input values;
- per request, with the variables: nesting of variable values, and the operation's estimated
  cost by the schema's cost directives (``schema.extensions.cost``; the plan is read once per
  document, the slicing arguments per request). The estimates of a batch's operations add up
  on the request's context, so they share one budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    ASTValidationRule,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    ValidationRule,
    ValueNode,
)
from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension

from gateway.settings import Settings
from schema.extensions.cost import demand_control

TOO_COMPLEX = "QUERY_TOO_COMPLEX"


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": TOO_COMPLEX})


# document rules (validation; cached per document) -------------------------------------------


def nesting(value: Any) -> int:
    """Depth of nested objects/lists in a JSON-like value or a GraphQL literal (iterative)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, ObjectValueNode):
            children: Any = [f.value for f in node.fields]
        elif isinstance(node, ListValueNode):
            children = node.values
        elif isinstance(node, Mapping):
            children = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def input_depth_rule(max_depth: int) -> type[ASTValidationRule]:
    class InputDepth(ValidationRule):
        def enter_argument(self, node: Any, *_: Any) -> Any:
            value: ValueNode = node.value
            if nesting(value) > max_depth:
                self.report_error(
                    too_complex(
                        f"the value of argument '{node.name.value}' is nested deeper than the limit "
                        f"of {max_depth} (GATEWAY_MAX_INPUT_DEPTH)"
                    )
                )
                return self.BREAK
            return self.SKIP  # its parts were measured with it

    return InputDepth


def document_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The validation rules the settings ask for (depth, aliases, root fields and size are
    measured before validation: ``schema.extensions.document_bounds``)."""
    rules: list[type[ASTValidationRule]] = [input_depth_rule(settings.max_input_depth)]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


# per request: variables --------------------------------------------------------------------


class VariableDepth(SchemaExtension):
    """Refuses, before execution, variables nested deeper than the input depth limit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if nesting(context.variables or {}) > self.settings.max_input_depth + 1:
            context.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    too_complex(
                        f"the variables are nested deeper than the limit of "
                        f"{self.settings.max_input_depth} (GATEWAY_MAX_INPUT_DEPTH)"
                    )
                ],
            )
        yield


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions enforcing the settings' limits (factories, one per request)."""
    rules = document_rules(settings)
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: AddValidationRules(rules),
        lambda: VariableDepth(settings),
        demand_control(settings),
    ]
