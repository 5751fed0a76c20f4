"""What a document costs to validate and execute, measured before any validation rule runs.

Validation is not linear in the size of a document: a fragment spread twice in each of a chain of
fragments doubles the fields at every link, and graphql-core's overlapping-fields rule compares
every pair of fields that share a response name. So every document is first measured here, in
time linear in its text, and refused with ``QUERY_TOO_COMPLEX`` past a bound:

- ``fields``: the fields of each operation with every fragment spread expanded. A fragment's
  figures are computed once and reused wherever it is spread, so a chain of doubling fragments
  costs one step per fragment to measure. A spread of a fragment being measured (a cycle) or of
  an unknown fragment counts nothing here; validation reports it afterwards.
- ``aliases``: the aliased fields, fragments expanded.
- ``depth``: the deepest nesting of fields, introspection fields included.
- ``root_fields``: the fields at the top of an operation (``__typename`` and the other
  introspection fields not counted).
- introspection depth: the nesting of ``__Type``'s list fields (``fields``, ``interfaces``,
  ``possibleTypes``, ``inputFields``) below ``__schema`` or ``__type``, refused at 3 as graphql-js's
  ``MaxIntrospectionDepthRule`` does (the standard introspection query nests them one deep).
- field pairs: once the expanded size is known to be bounded, the fields the operation selects
  are merged as execution merges them (same response name, fragments collected once per
  selection set) and the pairs sharing a response name are counted: the comparisons the
  overlapping-fields rule makes, with the pairs of distinct fragments spread side by side in
  one selection set, which it compares too (about 5–7 µs a pair here). A pair of leaf fields counts
  ``LEAF_PAIR`` (two fields with selections cost the rule 2–7 µs a pair, two leaves about 0.4 µs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
)

from gateway.settings import Settings

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
INTROSPECTION_LISTS = frozenset({"fields", "interfaces", "possibleTypes", "inputFields"})
LEAF_PAIR = 0.125
"""What a pair of repeated leaf fields counts, against 1 for a pair of fields with selections."""
MAX_INTROSPECTION_LISTS = 3
"""graphql-js refuses ``__Type`` list fields nested this deep (its ``MAX_LISTS_DEPTH``)."""


@dataclass(frozen=True, slots=True)
class Shape:
    """The measure of a selection set (of an operation or a fragment), fragments expanded."""

    fields: int = 0
    aliases: int = 0
    depth: int = 0  # fields with a selection set on the deepest path
    root_fields: int = 0  # fields at its top, introspection ones not counted
    lists: int = 0  # deepest nesting of introspection list fields on a path
    introspection: int = 0  # the same, below a __schema/__type field

    def __add__(self, other: Shape) -> Shape:
        """Two parts of one selection set."""
        return Shape(
            self.fields + other.fields,
            self.aliases + other.aliases,
            max(self.depth, other.depth),
            self.root_fields + other.root_fields,
            max(self.lists, other.lists),
            max(self.introspection, other.introspection),
        )


EMPTY = Shape()


def field_shape(node: FieldNode, below: Shape | None) -> Shape:
    """A field, given the shape of its selection set (None: a leaf)."""
    name = node.name.value
    root = 0 if name.startswith("__") else 1
    alias = 0 if node.alias is None else 1
    if below is None:
        return Shape(1, alias, 0, root, int(name in INTROSPECTION_LISTS))
    lists = below.lists + (name in INTROSPECTION_LISTS)
    introspection = max(below.introspection, below.lists if name in INTROSPECTION_ROOTS else 0)
    return Shape(1 + below.fields, alias + below.aliases, 1 + below.depth, root, lists, introspection)


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class Measure:
    """The shapes of a document's fragments, each computed once (iteratively: neither a long
    chain of fragments nor deep nesting can exhaust the stack)."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._shapes: dict[str, Shape] = {}
        self._measuring: set[str] = set()

    def shape(self, selection_set: SelectionSetNode) -> Shape:
        # Post-order walk. A frame is (its owner: a field, a fragment's name or None; the shapes
        # of its selections so far; the selections still to measure). A spread of a fragment
        # not measured yet suspends the frame until the fragment is.
        frames: list[tuple[FieldNode | str | None, list[Shape], list[SelectionNode]]] = [
            (None, [], list(reversed(selection_set.selections)))
        ]
        result = EMPTY
        while frames:
            owner, parts, pending = frames[-1]
            if pending:
                selection = pending.pop()
                if isinstance(selection, FieldNode):
                    if selection.selection_set is None:
                        parts.append(field_shape(selection, None))
                    else:
                        child = selection.selection_set
                        frames.append((selection, [], list(reversed(child.selections))))
                elif isinstance(selection, InlineFragmentNode):
                    child = selection.selection_set
                    frames.append((None, [], list(reversed(child.selections))))
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    known = self._shapes.get(name)
                    if known is not None:
                        parts.append(known)
                    elif name in self._fragments and name not in self._measuring:
                        self._measuring.add(name)
                        child = self._fragments[name].selection_set
                        frames.append((name, [], list(reversed(child.selections))))
                    # else: unknown, or a cycle (validation reports both): nothing
                continue
            frames.pop()
            total = sum(parts, EMPTY)
            if isinstance(owner, FieldNode):
                total = field_shape(owner, total)
            elif isinstance(owner, str):
                self._shapes[owner] = total
                self._measuring.discard(owner)
            if frames:
                frames[-1][1].append(total)
            else:
                result = total
        return result


def field_pairs(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], limit: float
) -> float:
    """Pairs of fields sharing a response name once the operation's fields are merged as
    execution merges them (a pair of leaves counts ``LEAF_PAIR``), and pairs of fragments spread
    side by side; counting stops past ``limit``. Call it only on an operation whose expanded
    size is bounded: the walk visits every merged field."""
    pairs = 0.0
    levels: list[list[SelectionSetNode]] = [[selection_set]]
    while levels:
        groups: dict[str, list[SelectionSetNode | None]] = {}
        fields, fragment_pairs = collect(levels.pop(), fragments)
        pairs += fragment_pairs  # validation compares every two fragments spread side by side
        for field in fields:
            key = field.alias.value if field.alias else field.name.value
            groups.setdefault(key, []).append(field.selection_set)
        for below in groups.values():
            merged = [s for s in below if s is not None]
            pairs += len(below) * (len(below) - 1) // 2 * (1 if merged else LEAF_PAIR)
            if pairs > limit:
                return pairs
            if merged:
                levels.append(merged)
    return pairs


def collect(
    sets: Iterable[SelectionSetNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[list[FieldNode], int]:
    """The fields of one merged selection set (a fragment collected once, as in execution), and
    the pairs of distinct fragments spread side by side in one of its selection sets."""
    fields: list[FieldNode] = []
    seen: set[str] = set()
    fragment_pairs = 0
    pending = list(sets)
    while pending:
        side_by_side: set[str] = set()
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                fields.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                side_by_side.add(name)
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)
        fragment_pairs += len(side_by_side) * (len(side_by_side) - 1) // 2
    return fields, fragment_pairs


def collect_fields(
    sets: Iterable[SelectionSetNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> list[FieldNode]:
    return collect(sets, fragments)[0]


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": TOO_COMPLEX})


def operation_label(operation: OperationDefinitionNode) -> str:
    return f"operation '{operation.name.value}'" if operation.name else "the operation"


def document_refusals(document: DocumentNode, settings: Settings) -> list[GraphQLError]:
    """Why the document is refused before validation (empty: it may be validated)."""
    fragments = fragments_of(document)
    measure = Measure(fragments)
    for operation in (d for d in document.definitions if isinstance(d, OperationDefinitionNode)):
        shape = measure.shape(operation.selection_set)
        label = operation_label(operation)
        if shape.fields > settings.max_expanded_fields:
            return [
                too_complex(
                    f"{label} selects {shape.fields} fields with its fragments expanded, more than "
                    f"the limit of {settings.max_expanded_fields} (GATEWAY_MAX_EXPANDED_FIELDS)"
                )
            ]
        if shape.aliases > settings.max_aliases:
            return [
                too_complex(
                    f"{label} has {shape.aliases} aliases with its fragments expanded, more than "
                    f"the limit of {settings.max_aliases} (GATEWAY_MAX_ALIASES)"
                )
            ]
        if shape.depth > settings.max_query_depth:
            return [
                too_complex(
                    f"{label} nests fields {shape.depth} deep, deeper than the limit of "
                    f"{settings.max_query_depth} (GATEWAY_MAX_QUERY_DEPTH)"
                )
            ]
        if shape.root_fields > settings.max_root_fields:
            return [
                too_complex(
                    f"{label} asks for {shape.root_fields} root fields, more than the limit of "
                    f"{settings.max_root_fields} (GATEWAY_MAX_ROOT_FIELDS)"
                )
            ]
        if shape.introspection >= MAX_INTROSPECTION_LISTS:
            return [
                too_complex(
                    f"{label} nests the introspection lists fields/interfaces/possibleTypes/"
                    f"inputFields {shape.introspection} deep; the limit is "
                    f"{MAX_INTROSPECTION_LISTS - 1} (maximum introspection depth exceeded)"
                )
            ]
        pairs = field_pairs(operation.selection_set, fragments, settings.max_field_pairs)
        if pairs > settings.max_field_pairs:
            return [
                too_complex(
                    f"{label} repeats fields: more than {settings.max_field_pairs} pairs of fields "
                    "sharing a response name, or of fragments spread side by side, each pair "
                    f"to be compared (a pair of leaf fields counts {LEAF_PAIR}) (GATEWAY_MAX_FIELD_PAIRS)"
                )
            ]
    return []
