"""The ``DateTime`` and ``JSON`` scalars (stored values are made JSON-safe by
:mod:`gateway.mongo.documents`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType

import strawberry

from gateway.mongo.documents import serialize_datetime
from gateway.mongo.query import parse_datetime as parse_iso_datetime

DATETIME_DESCRIPTION = (
    "An instant as ISO-8601 text, always UTC with an explicit zone on output "
    '("2020-09-01T12:00:00Z"). On input a zone is optional; a value without one means UTC.'
)


def parse_datetime(value: object) -> datetime:
    """ISO-8601 text → an aware UTC datetime (the query compiler's parser, zone made explicit)."""
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    return parse_iso_datetime(value, "DateTime").replace(tzinfo=UTC)


JSON = NewType("JSON", object)
"""Annotation for fields holding any JSON value (mapped to the ``JSON`` scalar)."""

SCALAR_MAP: dict[object, Any] = {
    datetime: strawberry.scalar(
        name="DateTime",
        description=DATETIME_DESCRIPTION,
        serialize=serialize_datetime,
        parse_value=parse_datetime,
    ),
    JSON: strawberry.scalar(
        name="JSON",
        description="Any JSON value: an object, a list, a string, a number, a boolean or null.",
        specified_by_url="https://www.rfc-editor.org/rfc/rfc8259",
        serialize=lambda value: value,
        parse_value=lambda value: value,
    ),
}
