"""Per-document work done once per query text.

The parser cache hands out one document object per query text. Strawberry's ``ValidationCache``
keys its LRU cache on that document, and hashing a GraphQL document walks every node of it on
every request (15–40 µs for the documents of the benchmark). Keyed on the query text instead,
whose hash Python keeps, a cache hit costs a dictionary lookup.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

Value = TypeVar("Value")


class TextCache(Generic[Value]):
    """A bounded least-recently-used mapping (one event loop: no locking needed)."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], Value]) -> Value:
        try:
            value = self._entries[key]
        except KeyError:
            value = self._entries[key] = make()
            if len(self._entries) > self._maxsize:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return value


Precheck = Callable[[DocumentNode], list[GraphQLError]]
"""A linear measure of a document that runs before validation; its errors refuse the document
and validation (whose rules are not all linear) does not run."""


class ValidationCache(SchemaExtension):
    """The precheck's or else validation's errors of a document, cached by query text and
    validation rules."""

    def __init__(self, cache: TextCache[list], precheck: Precheck) -> None:  # type: ignore[type-arg]
        self.cache = cache
        self.precheck = precheck

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, rules = context.graphql_document, context.validation_rules
        assert document is not None
        context.pre_execution_errors = self.cache.get(
            (context.query, rules),
            lambda: self.precheck(document)
            or validate_document(context.schema._schema, document, rules),
        )
        yield


def validation_cache(
    maxsize: int, precheck: Precheck = lambda _: []
) -> Callable[[], ValidationCache]:
    """The extension factory; every request shares one cache of ``maxsize`` documents."""
    cache: TextCache[list] = TextCache(maxsize)  # type: ignore[type-arg]
    return lambda: ValidationCache(cache, precheck)
