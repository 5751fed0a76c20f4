"""Per-document work done once per query text.

The parser cache hands out one document object per query text. Strawberry's ``ValidationCache``
keys its LRU cache on that document, and hashing a GraphQL document walks every node of it on
every request (15–40 µs for the documents of the benchmark). Keyed on the query text instead,
whose hash Python keeps, a cache hit costs a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from gateway.lru import LruCache
from schema.internals import graphql_core_schema

Precheck = Callable[[DocumentNode], list[GraphQLError]]
"""A linear measure of a document that runs before validation; its errors refuse the document
and validation (whose rules are not all linear) does not run."""


class ValidationCache(SchemaExtension):
    """The precheck's or else validation's errors of a document, cached by query text and
    validation rules."""

    def __init__(self, cache: LruCache[Any, list[Any]], precheck: Precheck) -> None:
        self.cache = cache
        self.precheck = precheck

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, rules = context.graphql_document, context.validation_rules
        assert document is not None
        context.pre_execution_errors = self.cache.get_or_make(
            (context.query, rules),
            lambda: (
                self.precheck(document)
                or validate_document(graphql_core_schema(context.schema), document, rules)
            ),
        )
        yield


def validation_cache(maxsize: int, precheck: Precheck = lambda _: []) -> Callable[[], ValidationCache]:
    """The extension factory; every request shares one cache of ``maxsize`` documents."""
    cache: LruCache[Any, list[Any]] = LruCache(maxsize)
    return lambda: ValidationCache(cache, precheck)
