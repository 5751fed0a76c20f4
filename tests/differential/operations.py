"""Operations over the real schema as hypothesis draws them, sent as GraphQL-over-HTTP bodies.

``hypothesis-graphql`` draws each operation's shape: a subset of root fields with literal
arguments, and under them random subsets of fields and inline fragments on abstract types. On
top of that, each draw may:

- replace a root field's arguments by ones that read the stored data (the seeded domain, ids of
  stored jobs and controllers, small pages, orderings, filters, a statistics query), so that
  answers hold data and not only argument errors;
- turn root arguments into variables (``$a1: JobFilter``), given in ``variables`` (or left to a
  variable's default);
- select every field of an object type (and of its object fields), alias fields, repeat a field (merged), add
  ``__typename`` anywhere;
- move selections into named fragments (``...F1``) and inline fragments with or without a type
  condition;
- put ``@skip``/``@include`` on fields and fragments, with literal or variable conditions;
- name the operation and add a second one, sending ``operationName``.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphql
from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLObjectType,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
)
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

from tests.conftest import DOMAIN, OTHER_DOMAIN

SDL = (Path(__file__).parents[2] / "schema" / "schema.graphql").read_text()
SCHEMA = graphql.build_schema(SDL)
QUERY = SCHEMA.query_type
assert QUERY is not None
ROOT_FIELDS = tuple(QUERY.fields)

_JSON = st.recursive(
    st.none().map(lambda _: nodes.Null)
    | st.booleans().map(nodes.Boolean)
    | st.integers(-(2**31), 2**31 - 1).map(nodes.Int)
    | st.text(max_size=5).map(nodes.String),
    lambda inner: st.lists(inner, max_size=2).map(nodes.List),
    max_leaves=3,
)
SCALARS = {
    "JSON": _JSON,
    "DateTime": st.sampled_from(["2026-09-01T12:00:00Z", "2026-09-20", "later"]).map(nodes.String),
}


def global_id(type_name: str, domain: str, key: str) -> str:
    """A global id as the API documents it: unpadded URL-safe base64 of ``Type:domain:key``."""
    return base64.urlsafe_b64encode(f"{type_name}:{domain}:{key}".encode()).rstrip(b"=").decode()


@dataclass(frozen=True)
class Stored:
    """What the operations may name of the stored data."""

    job_ids: tuple[str, ...]
    controller_ids: tuple[str, ...]

    @classmethod
    def of(cls, jobs: list[dict[str, Any]], controllers: list[dict[str, Any]]) -> Stored:
        return cls(
            tuple(str(j["job_id"]) for j in jobs if j["domain_id"] == DOMAIN),
            tuple(str(c["controller_id"]) for c in controllers if c["domain_id"] == DOMAIN),
        )

    def global_ids(self) -> st.SearchStrategy[str]:
        known = [global_id("Job", DOMAIN, j) for j in self.job_ids]
        known += [global_id("ControllerInfo", DOMAIN, c) for c in self.controller_ids]
        unknown = [global_id("Job", DOMAIN, "job-000000000000"), global_id("Job", OTHER_DOMAIN, "x")]
        return st.sampled_from(known or unknown) | st.sampled_from([*unknown, "not-an-id"])


def _literal(text: str) -> graphql.ValueNode:
    return graphql.parse_value(text)


def _string(value: str) -> str:
    return graphql.print_ast(graphql.StringValueNode(value=value))


FILTERS = st.sampled_from(
    [
        "{}",
        "{status: {eq: ERROR}}",
        "{status: {in: [SUCCESS, CREATED]}}",
        "{hasErrors: true}",
        "{totalTasks: {gte: 5}}",
        "{or: [{status: {eq: TIMEOUT}}, {hasErrors: false}]}",
    ]
)
ORDERS = st.sampled_from(
    ["[{field: CREATED_AT, direction: ASC}]", "[{field: TOTAL_TASKS, direction: DESC}]", "[{field: JOB_ID}]"]
)
SEARCHES = st.sampled_from(
    [
        "{page: {limit: 3}}",
        '{sort: {key: "created_at", desc: true}}',
        '{filter: [{k: "status", v: "ERROR", o: EQ}]}',
        '{page: {start: 2, limit: 2}, sort: {keys: [{key: "total_tasks", desc: true}]}}',
        '{keyword: "job"}',
    ]
)
STATS = st.sampled_from(
    [
        '{aggregate: [{group: {keys: [{key: "status", name: "status"}], '
        'fields: [{name: "n", operator: COUNT}]}}]}',
        '{distinct: "status"}',
        '{aggregate: [{group: {fields: [{key: "total_tasks", name: "sum", operator: SUM}]}}]}',
    ]
)
DOMAINS = st.sampled_from([DOMAIN, DOMAIN, DOMAIN, OTHER_DOMAIN])


def sensible_arguments(root: str, stored: Stored) -> st.SearchStrategy[dict[str, str]]:
    """Arguments (as literal text) that read the stored data, for each root field."""
    domain = DOMAINS.map(_string)
    optional = {
        "jobs": {"status": st.sampled_from(["ERROR", "SUCCESS", "NONE"]), "query": SEARCHES},
        "jobsConnection": {
            "filter": FILTERS,
            "orderBy": ORDERS,
            "first": st.integers(0, 4).map(str),
        },
        "jobSummary": {"filter": FILTERS},
        "jobTimeline": {"filter": FILTERS},
    }.get(root, {})
    required: dict[str, st.SearchStrategy[str]] = {
        "jobs": {"domainId": domain},
        "job": {
            "jobId": st.sampled_from([*stored.job_ids, "job-000000000000"]).map(_string),
            "domainId": domain,
        },
        "jobsConnection": {"domainId": domain},
        "jobStats": {"query": STATS, "domainId": domain},
        "jobSummary": {"domainId": domain},
        "jobTimeline": {"interval": st.sampled_from(["DAY", "HOUR"]), "domainId": domain},
        "node": {"id": stored.global_ids().map(_string)},
        "nodes": {
            "ids": st.lists(stored.global_ids().map(_string), max_size=3).map(lambda ids: f"[{', '.join(ids)}]")
        },
    }[root]
    return st.fixed_dictionaries(required, optional=optional)


@dataclass
class _Rewrite:
    """The state of one document's rewriting: names used, variables declared and given."""

    draw: st.DrawFn
    stored: Stored
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    definitions: list[VariableDefinitionNode] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    fragments: list[FragmentDefinitionNode] = field(default_factory=list)

    def chance(self, probability: float) -> bool:
        """True with about this probability; False for the simplest draw (0, which hypothesis
        draws often and shrinks to): no rewrite."""
        return self.draw(st.integers(0, 999)) >= 1000 - round(probability * 1000)

    def variable(self, type_text: str, value: Any, default: graphql.ValueNode | None = None) -> VariableNode:
        """A new variable of this type, given ``value`` (or left out when it has a default)."""
        name = f"v{next(self.counter)}"
        self.definitions.append(
            VariableDefinitionNode(
                variable=VariableNode(name=NameNode(value=name)),
                type=graphql.parse_type(type_text),
                default_value=default,
                directives=(),
            )
        )
        if default is None or self.chance(0.5):
            self.variables[name] = value
        return VariableNode(name=NameNode(value=name))

    # root arguments --------------------------------------------------------------------

    def root_arguments(self, node: FieldNode) -> tuple[ArgumentNode, ...]:
        definition = QUERY.fields[node.name.value]
        if not self.chance(0.25):
            texts = self.draw(sensible_arguments(node.name.value, self.stored))
            arguments = [ArgumentNode(name=NameNode(value=k), value=_literal(v)) for k, v in texts.items()]
        else:  # the generator's own values; domainId mostly the seeded one
            arguments = [
                ArgumentNode(name=a.name, value=_literal(_string(self.draw(DOMAINS))))
                if a.name.value == "domainId" and self.chance(0.8)
                else a
                for a in node.arguments
            ]
        as_variables = self.chance(0.5)
        result = []
        for argument in arguments:
            if as_variables and self.chance(0.7):
                type_ = definition.args[argument.name.value].type
                value = graphql.value_from_ast_untyped(argument.value)
                default = argument.value if self.chance(0.2) else None
                argument = ArgumentNode(name=argument.name, value=self.variable(str(type_), value, default))
            result.append(argument)
        return tuple(result)

    # selections ------------------------------------------------------------------------

    def directive(self) -> tuple[DirectiveNode, ...]:
        """No directive, or @skip/@include with a literal or variable condition."""
        if not self.chance(0.2):
            return ()
        name = self.draw(st.sampled_from(["skip", "include"]))
        value = self.draw(st.booleans())
        condition: graphql.ValueNode
        if self.chance(0.6):
            nullable = self.chance(0.3)
            condition = self.variable(
                "Boolean" if nullable else "Boolean!",
                value,
                default=nodes.Boolean(value) if nullable else None,
            )
        else:
            condition = nodes.Boolean(value)
        argument = ArgumentNode(name=NameNode(value="if"), value=condition)
        return (DirectiveNode(name=NameNode(value=name), arguments=(argument,)),)

    def selections(
        self, selections: tuple[SelectionNode, ...], parent: GraphQLCompositeType
    ) -> list[SelectionNode]:
        result: list[SelectionNode] = []
        for selection in selections:
            if isinstance(selection, FieldNode):
                result += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = SCHEMA.get_type(condition.name.value) if condition else parent
                assert isinstance(
                    inner, (GraphQLObjectType, graphql.GraphQLInterfaceType, graphql.GraphQLUnionType)
                )
                result.append(
                    InlineFragmentNode(
                        type_condition=condition,
                        directives=self.directive(),
                        selection_set=SelectionSetNode(
                            selections=tuple(self.selections(selection.selection_set.selections, inner))
                        ),
                    )
                )
            else:
                result.append(selection)
        if isinstance(parent, GraphQLObjectType) and parent is not QUERY and not self.chance(0.7):
            result += self.wide(parent)
        if self.chance(0.3 if parent is not QUERY else 0.05):  # a root `__typename`: never compiled
            typename = FieldNode(
                name=NameNode(value="__typename"),
                alias=NameNode(value=f"t{next(self.counter)}") if self.chance(0.3) else None,
                arguments=(),
                directives=self.directive(),
            )
            result.insert(self.draw(st.integers(0, len(result))), typename)
        if len(result) > 1 and self.chance(0.3):
            start = self.draw(st.integers(0, len(result) - 1))
            stop = self.draw(st.integers(start + 1, len(result)))
            result[start:stop] = [self.fragment(result[start:stop], parent)]
        return result

    def wide(self, parent: GraphQLObjectType, depth: int = 3) -> list[SelectionNode]:
        """Every field of the type without arguments, object fields with their own fields (to
        ``depth``), aliased by type: no conflict with a field of the same name on another type
        of an abstract selection."""
        selections: list[SelectionNode] = []
        for name, definition in parent.fields.items():
            inner = graphql.get_named_type(definition.type)
            selection_set = None
            if definition.args:
                continue
            if isinstance(inner, GraphQLObjectType):
                if depth == 0:
                    continue
                selection_set = SelectionSetNode(selections=tuple(self.wide(inner, depth - 1)))
            elif not graphql.is_leaf_type(inner):
                continue
            alias = NameNode(value=f"{name}_{parent.name}")
            selections.append(
                FieldNode(name=NameNode(value=name), alias=alias, arguments=(), selection_set=selection_set)
            )
        return selections

    def fragment(self, selections: list[SelectionNode], parent: GraphQLCompositeType) -> SelectionNode:
        selection_set = SelectionSetNode(selections=tuple(selections))
        if self.chance(0.5):
            name = f"F{next(self.counter)}"
            self.fragments.append(
                FragmentDefinitionNode(
                    name=NameNode(value=name),
                    type_condition=NamedTypeNode(name=NameNode(value=parent.name)),
                    directives=(),
                    selection_set=selection_set,
                    variable_definitions=(),
                )
            )
            return FragmentSpreadNode(name=NameNode(value=name), directives=self.directive())
        condition = NamedTypeNode(name=NameNode(value=parent.name)) if self.chance(0.5) else None
        return InlineFragmentNode(
            type_condition=condition, directives=self.directive(), selection_set=selection_set
        )

    def field(self, node: FieldNode, parent: GraphQLCompositeType) -> list[SelectionNode]:
        selection_set = node.selection_set
        if selection_set is not None:
            assert isinstance(parent, (GraphQLObjectType, graphql.GraphQLInterfaceType))
            inner = graphql.get_named_type(parent.fields[node.name.value].type)
            assert isinstance(
                inner, (GraphQLObjectType, graphql.GraphQLInterfaceType, graphql.GraphQLUnionType)
            )
            selection_set = SelectionSetNode(selections=tuple(self.selections(selection_set.selections, inner)))
        alias = node.alias
        if alias is None and self.chance(0.2):
            alias = NameNode(value=f"{node.name.value}_{next(self.counter)}")
        arguments = self.root_arguments(node) if parent is QUERY else node.arguments
        rewritten = FieldNode(
            name=node.name,
            alias=alias,
            arguments=arguments,
            directives=self.directive(),
            selection_set=selection_set,
        )
        if selection_set is None and self.chance(0.1):  # the same field twice: merged
            return [rewritten, FieldNode(name=node.name, alias=alias, arguments=arguments, directives=())]
        return [rewritten]


@st.composite
def operations(draw: st.DrawFn, stored: Stored) -> dict[str, Any]:
    """A GraphQL-over-HTTP request body: ``query``, ``variables`` and maybe ``operationName``."""
    roots = draw(st.lists(st.sampled_from(ROOT_FIELDS), min_size=1, max_size=2, unique=True))
    generated = draw(queries(SDL, fields=roots, custom_scalars=SCALARS, print_ast=lambda d: d))
    assert isinstance(generated, DocumentNode)
    (operation,) = generated.definitions
    assert isinstance(operation, OperationDefinitionNode)
    rewrite = _Rewrite(draw, stored)
    selections = rewrite.selections(operation.selection_set.selections, QUERY)
    name = NameNode(value="Differential") if draw(st.booleans()) else None
    definitions: list[graphql.DefinitionNode] = [
        OperationDefinitionNode(
            operation=OperationType.QUERY,
            name=name,
            variable_definitions=tuple(rewrite.definitions),
            directives=(),
            selection_set=SelectionSetNode(selections=tuple(selections)),
        ),
        *rewrite.fragments,
    ]
    body: dict[str, Any] = {"variables": rewrite.variables}
    if name is not None and draw(st.booleans()):
        definitions.append(graphql.parse("query Other { __typename }").definitions[0])
        body["operationName"] = "Differential"
    body["query"] = graphql.print_ast(DocumentNode(definitions=tuple(definitions)))
    return body
