"""Executing query operations from compiled plans, with standard execution as the authority.

:class:`CompiledOperations` keeps, per query text and operation name, the parsed operation and
everything that is a function of the document alone (its cost plan, the variables its
``@skip``/``@include`` read, its name for metrics), and per set of directive values a
:class:`~schema.compiled.plan.Plan`. A document is compiled once standard execution has run it
without a request error (so it is known to be valid); until then, and whenever a plan cannot
be built, it runs the standard way.

Per request, a plan run does only: take the run-up of its variable values (their coercion by
graphql-core, the plan variant, the estimated cost and the root fields' coerced arguments,
kept per operation for values seen before: :mod:`schema.compiled.bindings`), check the cost,
call the root fields' resolvers (Strawberry's, through graphql-core's public resolver
contract, with one resolve info per root field), complete their values with the plan and
settle the loads the plan left pending. It answers ``None`` (run the standard way) instead of
reporting anything but data: a request error, a resolver's exception, a value a plan cannot
complete exactly. The request's running cost totals are restored then, so the standard run
counts the operation once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    get_variable_values,
    parse,
)
from graphql.execution import get_argument_values
from graphql.language import Visitor, visit
from graphql.pyutils import Path
from graphql.type.definition import GraphQLResolveInfoHelpers

from gateway.lru import LruCache
from gateway.settings import Settings
from schema.compiled.bindings import MAX_BINDINGS, Binding, binding_key, fresh
from schema.compiled.plan import Fallback, NotCompilable, Pending, Plan, PlanBuilder, RootField, types_by_class
from schema.extensions.cost import CostModel, estimate
from schema.extensions.cost import Plan as CostPlan
from schema.extensions.limits import nesting
from schema.extensions.tracing import record_compiled_query
from schema.internals import Fragments, fragments_of

MAX_VARIANTS = 16
"""Plans kept per document for distinct ``@skip``/``@include`` values; more run the standard way."""

Outcome = Callable[[str], None]
"""Told ``compiled``, ``fallback`` or ``standard`` for every operation offered."""


@dataclass(slots=True)
class CompiledOperation:
    """What one document and operation name need, computed once."""

    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: Fragments
    """The fragments as field collection takes them."""
    fragment_definitions: dict[str, FragmentDefinitionNode]
    """The same fragments by name, as a resolve info carries them."""
    directive_variables: tuple[str, ...]
    cost_plan: CostPlan | None
    metric_name: str | None
    variants: dict[tuple[Any, ...], Plan | None] = field(default_factory=dict)
    bindings: LruCache[str, Binding] = field(default_factory=lambda: LruCache(MAX_BINDINGS))
    """The run-up of variable values seen before (:mod:`schema.compiled.bindings`)."""


NOT_COMPILABLE: Any = object()


class CompiledOperations:
    """The plans of one schema and the runs from them."""

    def __init__(self, schema: GraphQLSchema, settings: Settings, on_outcome: Outcome | None = None) -> None:
        self.schema = schema
        self.settings = settings
        self.on_outcome = on_outcome or (lambda _outcome: None)
        self.operations: LruCache[tuple[str, str | None], Any] = LruCache(settings.compiled_plans_cache_size)
        self.cost_model = CostModel(schema)
        self.types_by_class = types_by_class(schema)
        self.helpers = GraphQLResolveInfoHelpers(gather=_gather, track=_track)

    # learning documents -------------------------------------------------------------------

    def learn(self, query: str, operation_name: str | None) -> None:
        """Standard execution ran ``query`` without a request error: compile it from now on."""
        key = (query, operation_name)
        if self.operations.get(key) is None:
            self.operations.put(key, self._prepare(query, operation_name))

    def _prepare(self, query: str, operation_name: str | None) -> Any:
        try:
            document = parse(query)
        except Exception:  # noqa: BLE001 - standard execution has parsed it: cannot happen
            return NOT_COMPILABLE
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            operation = operations[0] if len(operations) == 1 else None
        else:
            operation = next((o for o in operations if o.name and o.name.value == operation_name), None)
        if operation is None or operation.operation.value != "query":
            return NOT_COMPILABLE
        definitions = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
        named = {o.name.value for o in operations if o.name}
        return CompiledOperation(
            document=document,
            operation=operation,
            fragments=fragments_of(definitions),
            fragment_definitions={d.name.value: d for d in definitions},
            directive_variables=_directive_variables(document),
            cost_plan=self.cost_model.plan(document, operation_name),
            metric_name=operation_name
            if operation_name in named
            else (operation.name.value if operation.name and operation_name is None else None),
        )

    def _variant(self, compiled: CompiledOperation, variables: Any) -> Plan | None:
        values = tuple(_frozen(variables.coerced.get(name)) for name in compiled.directive_variables)
        if values in compiled.variants:
            return compiled.variants[values]
        if len(compiled.variants) >= MAX_VARIANTS:
            return None
        builder = PlanBuilder(
            self.schema, compiled.fragments, compiled.operation, variables, self.types_by_class
        )
        try:
            plan: Plan | None = builder.build()
        except NotCompilable:
            plan = None
        compiled.variants[values] = plan
        return plan

    def _binding(self, compiled: CompiledOperation, raw: dict[str, Any]) -> Binding | None:
        """The run-up of ``raw`` (kept, or worked out now), or None: the variables do not
        coerce (standard execution reports it) or are nested too deeply."""
        key = binding_key(raw)
        if key is not None and (kept := compiled.bindings.get(key)) is not None:
            return kept
        if nesting(raw) > self.settings.max_input_depth + 1:
            return None
        coerced = get_variable_values(self.schema, compiled.operation.variable_definitions or (), raw)
        if isinstance(coerced, list):  # variable errors
            return None
        plan = self._variant(compiled, coerced)
        binding = Binding(
            variables=coerced,
            plan=plan,
            cost=None if compiled.cost_plan is None else estimate(compiled.cost_plan, raw, self.settings),
            arguments=() if plan is None else tuple(_coerced_arguments(root, coerced) for root in plan.fields),
        )
        if key is not None:
            compiled.bindings.put(key, binding)
        return binding

    # running ------------------------------------------------------------------------------

    async def execute(
        self,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        context: Any,
        operation_extensions: Mapping[str, Any] | None,
    ) -> tuple[dict[str, Any] | None, bool]:
        """The response body of the operation from its plan, or None: run it the standard way;
        and whether a plan ran (then the context was used: the standard run needs a fresh one)."""
        compiled = self.operations.get((query, operation_name))
        if compiled is None or compiled is NOT_COMPILABLE or _asks_cost(operation_extensions):
            self.on_outcome("standard")
            return None, False
        raw = dict(variables or {})
        binding = self._binding(compiled, raw)
        if binding is None or binding.plan is None:
            self.on_outcome("standard")
            return None, False
        spent = dict(context.spent)
        started = time.time_ns()
        try:
            cost = binding.cost
            if cost is not None and context.spend("estimated_cost", cost) > self.settings.max_cost:
                raise Fallback
            data = await self._run(binding, compiled, context)
        except Exception:  # noqa: BLE001 - anything at all: standard execution reports it
            context.spent.clear()
            context.spent.update(spent)
            self.on_outcome("fallback")
            return None, True
        self.on_outcome("compiled")
        record_compiled_query(compiled.metric_name, started)
        return data, True

    async def _run(self, binding: Binding, compiled: CompiledOperation, context: Any) -> dict[str, Any]:
        plan: Plan = binding.plan
        calls: list[Any] = []
        try:
            self._call_roots(binding, compiled, context, calls)
        except BaseException:
            _close(calls)
            raise
        values = await _settle_all(calls)
        pending: Pending = []
        data: dict[str, Any] = {}
        try:
            for root, value in zip(plan.fields, values, strict=True):
                if isinstance(value, BaseException):
                    raise Fallback from value
                data[root.key] = root.complete(value, pending)
            while pending:
                batch, pending = pending, []
                loaded = await _settle_all([item[0] for item in batch])
                for (_, container, key, complete), value in zip(batch, loaded, strict=True):
                    if isinstance(value, BaseException):
                        raise Fallback from value
                    container[key] = complete(value, pending)
        except BaseException:
            _discard(pending)
            raise
        return {"data": data}

    def _call_roots(
        self, binding: Binding, compiled: CompiledOperation, context: Any, calls: list[Any]
    ) -> None:
        """Call each root field's resolver (its awaitable, or value, appended to ``calls``)."""
        plan: Plan = binding.plan
        variables = binding.variables
        for root, coerced in zip(plan.fields, binding.arguments, strict=True):
            info = GraphQLResolveInfo(
                root.name,
                root.nodes,
                root.definition.type,
                plan.root_type,
                Path(None, root.key, plan.root_type.name),
                self.schema,
                compiled.fragment_definitions,
                None,
                compiled.operation,
                variables,
                context,
                _is_awaitable,
                None,
                self.helpers,
            )
            if coerced is None:
                raise Fallback
            resolve = root.definition.resolve
            if resolve is None:
                raise Fallback
            calls.append(resolve(None, info, **fresh(coerced)))


def _coerced_arguments(root: RootField, variables: Any) -> dict[str, Any] | None:
    """``root``'s arguments as graphql-core coerces them, or None when they do not coerce."""
    try:
        return get_argument_values(root.definition, root.nodes[0], variables)
    except Exception:  # noqa: BLE001 - the run gives way; standard execution reports it
        return None


def _discard(pending: Pending) -> None:
    """Closes the loads a plan left pending when it gives way: never started, never awaited."""
    _close(item[0] for item in pending)


def _close(awaitables: Iterable[Any]) -> None:
    for awaitable in awaitables:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()


async def _settle_all(awaitables: Sequence[Any]) -> list[Any]:
    """Each value or exception of ``awaitables``, as ``gather(return_exceptions=True)`` gives
    them; a single one (most operations have one root field) is awaited in place, without the
    task ``gather`` would wrap it in."""
    if len(awaitables) == 1:
        try:
            return [await _settled(awaitables[0])]
        except Exception as error:  # noqa: BLE001 - handed back, as gather does
            return [error]
    return list(await asyncio.gather(*(_settled(one) for one in awaitables), return_exceptions=True))


async def _settled(value: Any) -> Any:
    return await value if _is_awaitable(value) else value


def _is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    return asyncio.iscoroutine(value) or asyncio.isfuture(value) or hasattr(value, "__await__")


async def _gather(values: Sequence[Any]) -> list[Any]:
    return list(await asyncio.gather(*values))


def _track(_values: Sequence[Any]) -> None:
    """Resolvers of this gateway track no background work."""


def _asks_cost(extensions: Mapping[str, Any] | None) -> bool:
    return isinstance(extensions, Mapping) and extensions.get("cost") is True


def _frozen(value: Any) -> Any:
    return value if isinstance(value, (bool, type(None))) else repr(value)


def _directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables read by ``@skip``/``@include`` anywhere in the document, in order."""
    names: dict[str, None] = {}

    class Directives(Visitor):
        def enter_directive(self, node: Any, *_: Any) -> None:
            if node.name.value in ("skip", "include"):
                for argument in node.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        names.setdefault(argument.value.name.value)

    visit(document, Directives())
    return tuple(names)
