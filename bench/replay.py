"""A Motor-like database that answers from pre-materialised results, for in-process timing.

The results are recorded once from a real query engine (mongomock-motor over the benchmark
documents); afterwards every call is a dictionary lookup keyed by the exact command (collection,
method, filter, projection, sort, skip, limit, ...). Both the gateway and the baseline read from
the same recording, so a timed request costs only the CPU of the code under test, and a command
that was not recorded, such as a baseline that drifts from the gateway's commands, fails loudly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

Result = Any


def command_key(collection: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return repr((collection, method, args, sorted(kwargs.items())))


class ReplayCursor:
    """What ``find``/``aggregate`` return: ``to_list`` and ``async for`` over a ready list."""

    __slots__ = ("_documents",)

    def __init__(self, documents: list[dict[str, Any]]) -> None:
        self._documents = documents

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        return list(self._documents if length is None else self._documents[:length])

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for document in self._documents:
            yield document


class ReplayCollection:
    def __init__(self, database: ReplayDatabase, name: str) -> None:
        self._database = database
        self._name = name

    def _answer(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Result:
        key = command_key(self._name, method, args, kwargs)
        self._database.log.append(key)
        try:
            return self._database.results[key]
        except KeyError:
            raise LookupError(f"command not recorded: {key[:300]}") from None

    def find(self, *args: Any, **kwargs: Any) -> ReplayCursor:
        return ReplayCursor(self._answer("find", args, kwargs))

    def aggregate(self, *args: Any, **kwargs: Any) -> ReplayCursor:
        return ReplayCursor(self._answer("aggregate", args, kwargs))

    async def find_one(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._answer("find_one", args, kwargs)
        return result

    async def count_documents(self, *args: Any, **kwargs: Any) -> int:
        return int(self._answer("count_documents", args, kwargs))

    async def distinct(self, *args: Any, **kwargs: Any) -> list[Any]:
        return list(self._answer("distinct", args, kwargs))


class ReplayDatabase:
    """``database[name]`` → a collection answering from ``results``; ``log`` lists each command."""

    def __init__(self) -> None:
        self.results: dict[str, Result] = {}
        self.log: list[str] = []
        self._collections: dict[str, ReplayCollection] = {}

    def __getitem__(self, name: str) -> ReplayCollection:
        if name not in self._collections:
            self._collections[name] = ReplayCollection(self, name)
        return self._collections[name]

    async def command(self, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"ok": 1.0}


class RecordingCollection(ReplayCollection):
    """Runs each command on a real engine and stores the materialised result under its key."""

    def __init__(self, database: RecordingDatabase, name: str) -> None:
        super().__init__(database, name)
        self._real = database.real[name]

    async def _record(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Result:
        key = command_key(self._name, method, args, kwargs)
        self._database.log.append(key)
        if key not in self._database.results:
            if method in ("find", "aggregate"):
                result = await getattr(self._real, method)(*args, **kwargs).to_list(length=None)
            else:
                result = await getattr(self._real, method)(*args, **kwargs)
            self._database.results[key] = result
        return self._database.results[key]

    def find(self, *args: Any, **kwargs: Any) -> Any:
        return _LazyCursor(self._record("find", args, kwargs))

    def aggregate(self, *args: Any, **kwargs: Any) -> Any:
        return _LazyCursor(self._record("aggregate", args, kwargs))

    async def find_one(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self._record("find_one", args, kwargs)
        return result

    async def count_documents(self, *args: Any, **kwargs: Any) -> int:
        return int(await self._record("count_documents", args, kwargs))

    async def distinct(self, *args: Any, **kwargs: Any) -> list[Any]:
        return list(await self._record("distinct", args, kwargs))


class _LazyCursor:
    def __init__(self, pending: Any) -> None:
        self._pending = pending

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        return list(await self._pending)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for document in await self._pending:
            yield document


class RecordingDatabase(ReplayDatabase):
    """Same interface as :class:`ReplayDatabase`; fills ``results`` from ``real``."""

    def __init__(self, real: Any) -> None:
        super().__init__()
        self.real = real

    def __getitem__(self, name: str) -> ReplayCollection:
        if name not in self._collections:
            self._collections[name] = RecordingCollection(self, name)
        return self._collections[name]

    def replay(self) -> ReplayDatabase:
        """A replaying database over everything recorded so far."""
        replay = ReplayDatabase()
        replay.results = self.results
        return replay
