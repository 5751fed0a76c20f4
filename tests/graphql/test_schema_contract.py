"""The schema as a contract: the committed SDL is current, and everything is documented."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
)

from schema import schema

SNAPSHOT = Path(__file__).parents[2] / "schema" / "schema.graphql"


def test_committed_sdl_matches_the_live_schema() -> None:
    assert SNAPSHOT.read_text() == schema.as_str() + "\n", (
        "schema/schema.graphql is stale: run `python -m gateway export-schema > schema/schema.graphql`"
    )


def _undocumented() -> list[str]:
    missing: list[str] = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__"):
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in field.args.items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        elif isinstance(graphql_type, GraphQLInputObjectType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
        elif isinstance(graphql_type, GraphQLEnumType):
            for value_name, value in graphql_type.values.items():
                if not value.description:
                    missing.append(f"{name}.{value_name}")
        elif isinstance(graphql_type, GraphQLScalarType):
            pass
    return missing


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    assert _undocumented() == []


def test_the_description_check_notices_a_missing_description() -> None:
    job = schema._schema.type_map["Job"]
    assert isinstance(job, GraphQLObjectType)
    saved = job.fields["status"].description
    job.fields["status"].description = None
    try:
        assert "Job.status" in _undocumented()
    finally:
        job.fields["status"].description = saved
