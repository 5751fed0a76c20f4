"""The breaking-change guard: the live schema must not break clients written against the
committed ``schema/schema.graphql``. A deliberate break passes only with the snapshot updated in
the same commit (``python -m gateway export-schema > schema/schema.graphql``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import (
    REMOVE,
    FieldDefinitionNode,
    GraphQLSchema,
    ObjectTypeDefinitionNode,
    Visitor,
    build_ast_schema,
    build_schema,
    parse,
    visit,
)
from graphql.utilities import find_breaking_changes

from schema import schema

SNAPSHOT = Path(__file__).parents[2] / "schema" / "schema.graphql"
REGENERATE = "python -m gateway export-schema > schema/schema.graphql"


def breaking_change_report(committed: GraphQLSchema, live: GraphQLSchema) -> str | None:
    """What in ``live`` breaks clients of ``committed``, as a message; None when nothing does."""
    changes = find_breaking_changes(committed, live)
    if not changes:
        return None
    lines = "\n".join(f"  - {change.type.name}: {change.description}" for change in changes)
    return (
        f"The schema breaks clients written against schema/schema.graphql:\n{lines}\n"
        "Keep the old fields (deprecate them instead), or, if the break is intended, update the "
        f"snapshot in the same commit: `{REGENERATE}`, and say so in the commit message."
    )


def _committed() -> GraphQLSchema:
    return build_schema(SNAPSHOT.read_text())


class _RemoveField(Visitor):
    def __init__(self, type_name: str, field_name: str) -> None:
        super().__init__()
        self.type_name, self.field_name, self.removed = type_name, field_name, False

    def enter_field_definition(self, node: FieldDefinitionNode, *args: Any) -> object:
        owner = args[3][-1]  # ancestors: the type definition holding the field
        if (
            isinstance(owner, ObjectTypeDefinitionNode)
            and owner.name.value == self.type_name
            and node.name.value == self.field_name
        ):
            self.removed = True
            return REMOVE
        return None


def _without_field(sdl: str, type_name: str, field_name: str) -> GraphQLSchema:
    remover = _RemoveField(type_name, field_name)
    document = visit(parse(sdl), remover)
    assert remover.removed, f"{type_name}.{field_name} is not in the schema"
    return build_ast_schema(document)


def test_the_live_schema_does_not_break_the_committed_contract() -> None:
    report = breaking_change_report(_committed(), schema._schema)
    assert report is None, report


def test_the_guard_notices_a_removed_field() -> None:
    report = breaking_change_report(_committed(), _without_field(SNAPSHOT.read_text(), "Job", "status"))
    assert report is not None
    assert "\n  - FIELD_REMOVED: Field Job.status was removed.\n" in report
    assert report.count("\n  - ") == 1
    assert REGENERATE in report


def test_the_guard_lets_additions_through() -> None:
    grown = build_schema(
        SNAPSHOT.read_text().replace(
            "type Job implements Node {",
            'type Job implements Node {\n  """A field added later."""\n  addedLater: String\n',
            1,
        )
    )
    assert "addedLater" in grown.type_map["Job"].fields  # type: ignore[union-attr]
    assert breaking_change_report(_committed(), grown) is None
