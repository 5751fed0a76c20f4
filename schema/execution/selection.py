"""What the client selected: used to read only the fields needed and to skip unneeded counts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from gateway.mongo.fields import snake_case


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
    (``errors { errorCode } errors { message }`` is one field asking for both)."""
    return [selection for node in info.selected_fields for selection in node.selections]
