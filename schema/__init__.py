"""The GraphQL schema of the gateway. ``schema`` is built with default settings (for export and
tests); the app builds its own from its settings with :func:`build_schema`."""

from __future__ import annotations

from schema.build import build_schema

schema = build_schema()

__all__ = ["build_schema", "schema"]
