"""Demand control by the IBM GraphQL Cost Directives (``schema.types.cost``): the static
estimate of an operation before execution, refused above GATEWAY_MAX_COST with
COST_ESTIMATED_TOO_EXPENSIVE, and its actual cost, read from the response.

The model, as the spec and Apollo Router's demand control have it:

- a field costs its weight: ``@cost`` on the field, else on its type, else 1 for an object and 0
  for a scalar or an enum; introspection costs nothing;
- a list field costs its size times (its weight plus the cost of its selection); the size is the
  value of one of its ``@listSize`` slicing arguments (a dotted path into an input object; the
  largest when several are given, capped at GATEWAY_MAX_PAGE_SIZE, which the field itself
  enforces), else its ``assumedSize`` (at least GATEWAY_DEFAULT_PAGE_SIZE for a field with
  slicing arguments, which is what it returns then), else 1; with ``sizedFields`` the size is
  that of those fields of the object the field returns (``jobs { results }``).

The operation's fields are merged as execution merges them (same response key; a fragment is
collected once per selection set) into a plan, once per document and operation name (cached);
only the slicing arguments, which may be variables, are read per request. The estimates of the
operations of a batch add up on the request's context. Statistics rows and timeline buckets are
known only once computed: the resolvers count them against the same limit
(``GatewayContext.count_returned_rows``), and the actual cost counts them from the response.

A client that sends the request extension ``{"cost": true}`` gets ``extensions.cost``:
``{"estimated": e, "actual": a, "limit": L}`` (``actual`` only when the operation ran).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    value_from_ast_untyped,
)
from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.unset import UnsetType

from gateway.context import GatewayContext
from gateway.lru import LruCache
from gateway.settings import Settings
from schema.extensions.document_bounds import collect_fields, fragments_of
from schema.internals import graphql_core_schema
from schema.types.cost import Cost, ListSize

TOO_EXPENSIVE = "COST_ESTIMATED_TOO_EXPENSIVE"


@dataclass(frozen=True, slots=True)
class FieldCost:
    """What the directives say of one field of the schema."""

    weight: int
    is_list: bool
    slicing: tuple[tuple[str, ...], ...] = ()  # argument paths
    assumed_size: int | None = None
    sized_fields: frozenset[str] | None = None  # None: the size is the field's own


@dataclass(frozen=True, slots=True)
class PlanNode:
    """One merged field of an operation."""

    key: str  # response key
    name: str
    cost: FieldCost
    arguments: tuple[ArgumentNode, ...]
    children: tuple[PlanNode, ...]


Plan = tuple[PlanNode, ...]


def _directives(definition: Any) -> tuple[Any, ...]:
    strawberry_definition = (getattr(definition, "extensions", None) or {}).get("strawberry-definition")
    return tuple(getattr(strawberry_definition, "directives", None) or ())


def _given(value: Any) -> Any:
    return None if isinstance(value, UnsetType) else value


def field_cost(field: GraphQLField) -> FieldCost:
    named: GraphQLNamedType = get_named_type(field.type)
    weight = 0 if is_leaf_type(named) else 1
    weight = next((d.weight for d in _directives(named) if isinstance(d, Cost)), weight)
    weight = next((d.weight for d in _directives(field) if isinstance(d, Cost)), weight)
    is_list = isinstance(get_nullable_type(field.type), GraphQLList)
    size = next((d for d in _directives(field) if isinstance(d, ListSize)), None)
    if size is None:
        return FieldCost(weight, is_list)
    sized = _given(size.sized_fields)
    return FieldCost(
        weight,
        is_list,
        slicing=tuple(tuple(path.split(".")) for path in _given(size.slicing_arguments) or ()),
        assumed_size=_given(size.assumed_size),
        sized_fields=frozenset(sized) if sized else None,
    )


class CostModel:
    """The directives of a schema, read once."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._fields: dict[tuple[str, str], FieldCost] = {}

    def of(self, parent: GraphQLObjectType, name: str) -> FieldCost | None:
        key = (parent.name, name)
        if key not in self._fields:
            field = parent.fields.get(name)
            if field is None:
                return None
            self._fields[key] = field_cost(field)
        return self._fields[key]

    def plan(self, document: DocumentNode, operation_name: str | None) -> Plan | None:
        """The merged fields of the named operation (None: no such operation)."""
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name:
            operation = next((o for o in operations if o.name and o.name.value == operation_name), None)
        else:
            operation = operations[0] if len(operations) == 1 else None
        root = self.schema.query_type
        if operation is None or root is None:
            return None
        return self._level([operation.selection_set], root, fragments_of(document))

    def _level(
        self, sets: Iterable[SelectionSetNode], parent: GraphQLObjectType, fragments: Mapping[str, Any]
    ) -> Plan:
        groups: dict[str, list[FieldNode]] = {}
        for field in collect_fields(sets, fragments):
            if not field.name.value.startswith("__"):
                groups.setdefault(field.alias.value if field.alias else field.name.value, []).append(field)
        nodes = []
        for key, fields in groups.items():
            first = fields[0]
            cost = self.of(parent, first.name.value)
            if cost is None:
                continue  # validation refuses it
            named = get_named_type(parent.fields[first.name.value].type)
            below = [f.selection_set for f in fields if f.selection_set is not None]
            children = self._level(below, named, fragments) if isinstance(named, GraphQLObjectType) else ()
            nodes.append(PlanNode(key, first.name.value, cost, tuple(first.arguments or ()), children))
        return tuple(nodes)


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _count(value: Any) -> int | None:
    """A slicing argument's size: a positive Int, or the length of a list (``nodes(ids:)``)."""
    if isinstance(value, list):
        return len(value) or None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def list_size(node: PlanNode, variables: dict[str, Any], settings: Settings) -> int:
    cost = node.cost
    if cost.slicing:
        args = {a.name.value: value_from_ast_untyped(a.value, variables) for a in node.arguments}
        given = [n for n in (_count(_dig(args, path)) for path in cost.slicing) if n is not None]
        if given:
            return min(max(given), settings.max_page_size)
        return max(cost.assumed_size or 1, settings.default_page_size)
    return cost.assumed_size or 1


def estimate(
    plan: Plan, variables: dict[str, Any], settings: Settings, sizes: Mapping[str, int] | None = None
) -> int:
    total = 0
    for node in plan:
        cost = node.cost
        size = sizes.get(node.name) if sizes else None
        inner: dict[str, int] | None = None
        if cost.sized_fields is not None:
            inner = dict.fromkeys(cost.sized_fields, list_size(node, variables, settings))
        elif size is None and cost.is_list:
            size = list_size(node, variables, settings)
        total += (size or 1) * (cost.weight + estimate(node.children, variables, settings, inner))
    return total


def actual(plan: Plan, data: Any) -> int:
    """The cost of a response by the same weights, with the lists' real lengths."""
    if not isinstance(data, Mapping):
        return 0
    total = 0
    for node in plan:
        value = data.get(node.key)
        items = value if node.cost.is_list and isinstance(value, list) else [value]
        for item in items:
            if item is not None:
                total += node.cost.weight + (actual(node.children, item) if node.children else 0)
    return total


def too_expensive(estimated: int, spent: int, limit: int) -> GraphQLError:
    so_far = f" (the request's operations so far: {spent})" if spent != estimated else ""
    return GraphQLError(
        f"the operation's estimated cost is {estimated}{so_far}, more than the limit of {limit} "
        "(GATEWAY_MAX_COST; see the @cost and @listSize directives of the schema)",
        extensions={"code": TOO_EXPENSIVE, "cost": {"estimated": spent, "limit": limit}},
    )


class DemandControl(SchemaExtension):
    """Refuses an operation whose estimate, with the request's earlier operations, exceeds the
    limit; reports ``extensions.cost`` when asked to."""

    def __init__(self, settings: Settings, shared: Shared) -> None:
        self.settings = settings
        self.shared = shared
        self.estimated: int | None = None
        self.actual: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        plan = None
        if document is not None and context.result is None:  # not refused by an earlier check
            name = context.operation_name
            model = self.shared.model(graphql_core_schema(context.schema))
            plan = self.shared.plans.get_or_make((context.query, name), lambda: model.plan(document, name))
        if plan is not None:
            self.estimated = estimate(plan, dict(context.variables or {}), self.settings)
            spent = _spend(context.context, self.estimated)
            if spent > self.settings.max_cost:
                context.result = GraphQLExecutionResult(
                    data=None, errors=[too_expensive(self.estimated, spent, self.settings.max_cost)]
                )
                yield
                return
        yield
        if plan is not None and self._asked() and context.result is not None:
            self.actual = actual(plan, context.result.data)

    def _asked(self) -> bool:
        extensions = self.execution_context.operation_extensions
        return isinstance(extensions, Mapping) and extensions.get("cost") is True

    def get_results(self) -> dict[str, Any]:
        if self.estimated is None or not self._asked():
            return {}
        report: dict[str, Any] = {"estimated": self.estimated, "limit": self.settings.max_cost}
        if self.actual is not None:
            report["actual"] = self.actual
        return {"cost": report}


def _spend(request_context: Any, amount: int) -> int:
    """Add to the request's running estimate (a context that is not the gateway's keeps none)."""
    if isinstance(request_context, GatewayContext):
        return request_context.spend("estimated_cost", amount)
    return amount


class Shared:
    """What every request of one schema shares: its cost model and the plans of its documents."""

    def __init__(self, maxsize: int = 512) -> None:
        self.plans: LruCache[tuple[str | None, str | None], Plan | None] = LruCache(maxsize)
        self._model: CostModel | None = None

    def model(self, schema: GraphQLSchema) -> CostModel:
        if self._model is None or self._model.schema is not schema:
            self._model = CostModel(schema)
        return self._model


def demand_control(settings: Settings) -> Callable[[], DemandControl]:
    """The extension factory (one per schema)."""
    shared = Shared()
    return lambda: DemandControl(settings, shared)
