"""What the client selected: used to read only the fields needed and to skip unneeded counts."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from graphql import FieldNode
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from gateway.mongo.fields import snake_case
from schema.internals import raw_info

T = TypeVar("T")

_MEMO: dict[int, tuple[weakref.ref[FieldNode], dict[tuple[Any, ...], Any]]] = {}
"""Per field node (by identity: a node's own hash and equality walk its whole subtree), what
was worked out for it; an entry goes when its node does."""
MEMO_ENTRIES_PER_FIELD = 64
"""Variants kept per field node (distinct variable values); older ones are dropped."""
MEMO_VARIABLES_CHARS = 4096
"""Variables longer than this (as text) are not worth a cache key: computed afresh."""


def per_document(info: Any, what: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` for the current field, worked out once per document rather than per request:
    keyed by the field's nodes (the cached document's own objects, held weakly), the schema
    (schemas built differently share parsed documents), the variable values (they decide
    ``@skip``/``@include`` and arguments) and ``what`` is computed. The result is shared:
    callers must not change it."""
    nodes = raw_info(info).field_nodes
    variables = repr(sorted((info.variable_values or {}).items()))
    if len(variables) > MEMO_VARIABLES_CHARS:
        return compute()
    key = (what, info.schema, tuple(map(id, nodes[1:])), variables)
    known = _memo_of(nodes[0])
    if key in known:
        return known[key]  # type: ignore[no-any-return]
    if len(known) >= MEMO_ENTRIES_PER_FIELD:
        known.pop(next(iter(known)))
    value = known[key] = compute()
    return value


def _memo_of(node: FieldNode) -> dict[tuple[Any, ...], Any]:
    entry = _MEMO.get(id(node))
    if entry is not None and entry[0]() is node:
        return entry[1]
    slot = id(node)

    def forget(ref: weakref.ref[FieldNode]) -> None:
        if (current := _MEMO.get(slot)) is not None and current[0] is ref:
            del _MEMO[slot]

    known: dict[tuple[Any, ...], Any] = {}
    _MEMO[slot] = (weakref.ref(node, forget), known)
    return known


def field_names(selections: Iterable[Selection]) -> set[str]:
    """Names of the fields selected at this level, fragments flattened."""
    names: set[str] = set()
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.add(selection.name)
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            names |= field_names(selection.selections)
    return names


def child_selections(selections: Iterable[Selection], name: str) -> list[Selection]:
    """The selections below every occurrence of the field ``name`` at this level."""
    found: list[Selection] = []
    for selection in selections:
        if isinstance(selection, SelectedField) and selection.name == name:
            found.extend(selection.selections)
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            found.extend(child_selections(selection.selections, name))
    return found


def job_api_fields(selections: Iterable[Selection]) -> set[str]:
    """Selected ``Job`` fields in API (snake_case) spelling: ``controllerInfo`` → ``controller_info``."""
    return {snake_case(name) for name in field_names(selections) if not name.startswith("__")}


def field_selections(info: Any) -> list[Selection]:
    """The sub-selections of the current field, merged over every node GraphQL merged into it
    (``errors { errorCode } errors { message }`` is one field asking for both); once per
    document (:func:`per_document`)."""
    return per_document(
        info,
        ("selections",),
        lambda: [selection for node in info.selected_fields for selection in node.selections],
    )
