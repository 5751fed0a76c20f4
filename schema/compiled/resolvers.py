"""The fields with resolvers of their own that compiled plans can produce without a resolve info.

Every other field of an output type is a plain attribute (Strawberry's default resolver). For
these, a plan calls the method the Strawberry resolver itself calls, with what the resolver
would read from its info worked out once per document. A field that is neither is not
compiled: its operation runs through standard execution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from gateway.mongo.fields import snake_case


@dataclass(frozen=True, slots=True)
class CompiledResolver:
    """A method of the source object and the argument it takes, made from the field's nodes."""

    method: str
    argument: Callable[[Sequence[FieldNode], Mapping[str, FragmentDefinitionNode]], Any] | None = None


def selected_names(nodes: Sequence[FieldNode], fragments: Mapping[str, FragmentDefinitionNode]) -> set[str]:
    """The field names under ``nodes``, fragments flattened, directives not applied: what
    ``field_names(field_selections(info))`` gives for these nodes (Strawberry's selections keep
    skipped fields)."""
    names: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    walk(fragment.selection_set)

    for node in nodes:
        walk(node.selection_set)
    return names


def error_parts(nodes: Sequence[FieldNode], fragments: Mapping[str, FragmentDefinitionNode]) -> frozenset[str]:
    """The parts an ``errors`` field asks for (``schema.execution.prefetch.errors_parts``)."""
    return frozenset(snake_case(name) for name in selected_names(nodes, fragments) if not name.startswith("__"))


COMPILED_RESOLVERS: dict[tuple[str, str], CompiledResolver] = {
    ("Job", "errors"): CompiledResolver("errors_for", error_parts),
    ("Job", "controllerInfo"): CompiledResolver("controller"),
}
"""(type, field) → how a plan produces it; each must equal the field's Strawberry resolver."""
