"""What one request may cost: every limit is a setting and is reported as QUERY_TOO_COMPLEX with
the name of the setting that bounds it.

- document size and shape, checked once per document (cached with validation): tokens
  (Strawberry's ``MaxTokensLimiter``; its parse error is coded in ``schema.extensions.errors``);
  expanded size, depth, aliases, root fields and introspection depth, measured before validation
  (``schema.extensions.document_bounds``); nesting of literal input values;
- per request, with the variables: nesting of variable values, and the total number of items
  the operation may return (page sizes multiplied through nested lists; the fields that count
  are found once per document, the page sizes per request). The items are accumulated on the
  request's context, so the operations of a batch share one budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    ValueNode,
    value_from_ast_untyped,
)
from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    SchemaExtension,
)

from gateway.context import GatewayContext
from gateway.settings import Settings
from schema.extensions.document_bounds import fragments_of
from schema.extensions.document_cache import TextCache

TOO_COMPLEX = "QUERY_TOO_COMPLEX"

PageSize = Callable[[Mapping[str, Any], Settings], int]


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _page_limit(args: Mapping[str, Any], settings: Settings) -> int:
    """``query.page.limit``, or the default page size (for statistics: the rows asked for; the
    statistics row cap bounds what the server may produce)."""
    return _positive(_dig(args, "query", "page", "limit")) or settings.default_page_size


def _search_page(args: Mapping[str, Any], settings: Settings) -> int:
    if _dig(args, "query", "countOnly") is True:
        return 1
    return _page_limit(args, settings)


def _first_or_last(args: Mapping[str, Any], settings: Settings) -> int:
    return _positive(args.get("first")) or _positive(args.get("last")) or settings.default_page_size


PAGE_SIZES: dict[str, PageSize] = {
    "Query.jobs": _search_page,
    "Query.jobsConnection": _first_or_last,
    "Query.jobStats": _page_limit,
}
"""Fields whose arguments say how many items they return (``Type.field``). Other list fields
count one item per parent item."""


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": TOO_COMPLEX})


# document rules (validation; cached per document) -------------------------------------------


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


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
                self.report_error(too_complex(
                    f"the value of argument '{node.name.value}' is nested deeper than the limit "
                    f"of {max_depth} (GATEWAY_MAX_INPUT_DEPTH)"
                ))
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


# per request: variables and the number of requested items ------------------------------------


@dataclass(frozen=True, slots=True)
class CostNode:
    """A field of the operation that may multiply or add requested items: a list, a field whose
    arguments give its page size, or an object with such fields below it."""

    is_list: bool
    size_of: PageSize | None
    arguments: tuple[ArgumentNode, ...]
    children: tuple[CostNode, ...]


CostPlan = tuple[CostNode, ...]


class RequestCost(SchemaExtension):
    """Checks, before execution, what the operation with its variables would return. The shape
    of the operation is read once per document (``plans``); only the page sizes, which may
    come from variables, are worked out per request."""

    def __init__(self, settings: Settings, plans: TextCache[CostPlan | None]) -> None:
        self.settings = settings
        self.plans = plans

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        refusal = self._refusal()
        if refusal is not None:
            context.result = GraphQLExecutionResult(data=None, errors=[refusal])
        yield

    def _refusal(self) -> GraphQLError | None:
        context = self.execution_context
        variables = context.variables or {}
        if nesting(variables) > self.settings.max_input_depth + 1:
            return too_complex(
                f"the variables are nested deeper than the limit of "
                f"{self.settings.max_input_depth} (GATEWAY_MAX_INPUT_DEPTH)"
            )
        document = context.graphql_document
        if document is None:
            return None
        name = context.operation_name
        plan = self.plans.get((context.query, name), lambda: cost_plan(document, name, context))
        if plan is None:
            return None
        items = _items(plan, dict(variables), 1, self.settings)
        spent = _spend(context.context, "requested_items", items)
        if spent > self.settings.max_requested_items:
            return too_complex(
                f"the request may return about {spent} items (page sizes multiplied through "
                f"nested lists), more than the limit of {self.settings.max_requested_items} "
                "(GATEWAY_MAX_REQUESTED_ITEMS)"
            )
        return None


def _spend(request_context: Any, what: str, amount: int) -> int:
    """Add to the request's running total (a context that is not the gateway's keeps none)."""
    if isinstance(request_context, GatewayContext):
        return request_context.spend(what, amount)
    return amount


def _selected_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = _operations(document)
    if name:
        return next((op for op in operations if op.name and op.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def cost_plan(document: DocumentNode, name: str | None, context: Any) -> CostPlan | None:
    """The fields of the named operation that count toward requested items (None: no such
    operation)."""
    operation = _selected_operation(document, name)
    if operation is None:
        return None
    fragments = fragments_of(document)
    schema: GraphQLSchema = context.schema._schema
    root = schema.query_type
    assert root is not None
    return _cost_nodes(operation.selection_set, root, fragments)


def _cost_nodes(
    selection_set: SelectionSetNode | None,
    parent: GraphQLObjectType,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> CostPlan:
    if selection_set is None:
        return ()
    nodes: list[CostNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            definition = parent.fields.get(selection.name.value)
            if definition is None:
                continue
            size_of = PAGE_SIZES.get(f"{parent.name}.{selection.name.value}")
            field_type = definition.type
            if isinstance(field_type, GraphQLNonNull):
                field_type = field_type.of_type
            named = field_type
            while isinstance(named, (GraphQLList, GraphQLNonNull)):
                named = named.of_type
            children: CostPlan = ()
            if isinstance(named, GraphQLObjectType):
                children = _cost_nodes(selection.selection_set, named, fragments)
            is_list = isinstance(field_type, GraphQLList)
            if is_list or children:
                arguments = tuple(selection.arguments or ()) if size_of else ()
                nodes.append(CostNode(is_list, size_of, arguments, children))
        elif isinstance(selection, InlineFragmentNode):
            nodes.extend(_cost_nodes(selection.selection_set, parent, fragments))
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            fragment = fragments[selection.name.value]
            nodes.extend(_cost_nodes(fragment.selection_set, parent, fragments))
    return tuple(nodes)


def _items(
    plan: CostPlan, variables: dict[str, Any], multiplier: int, settings: Settings
) -> int:
    total = 0
    for node in plan:
        size = 1
        if node.size_of is not None:
            args = {arg.name.value: value_from_ast_untyped(arg.value, variables)
                    for arg in node.arguments}
            # a size above the page cap is refused by the field itself, more precisely
            size = min(node.size_of(args, settings), settings.max_page_size)
        count = multiplier * size
        total += count if node.is_list else 0
        total += _items(node.children, variables, count, settings)
    return total


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions enforcing the settings' limits (factories, one per request)."""
    rules = document_rules(settings)
    plans: TextCache[CostPlan | None] = TextCache(maxsize=512)
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: AddValidationRules(rules),
        lambda: RequestCost(settings, plans),
    ]
