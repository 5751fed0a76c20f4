"""A bounded least-recently-used mapping, the one cache of the gateway (persisted queries,
validation results, cost plans). Every use runs on the one event loop: no locking."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """At most ``maxsize`` entries (none when ``maxsize <= 0``); the least recently used goes first."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value of ``key`` (now the most recently used), or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        if self.maxsize <= 0:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value of ``key``, made by ``make()`` and kept on a miss (a made None is kept too)."""
        try:
            value = self._entries[key]
        except KeyError:
            value = make()
            self.put(key, value)
        else:
            self._entries.move_to_end(key)
        return value

    def __len__(self) -> int:
        return len(self._entries)
