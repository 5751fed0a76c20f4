"""Per-request DataLoaders: each batch is one bulk query through the domain's repository."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bson import ObjectId
from strawberry.dataloader import DataLoader

from gateway.mongo.repository import JobRepository

ErrorsKey = tuple[ObjectId, frozenset[str]]
"""A job ``_id`` and the parts of its errors wanted (``error_code``, ``message``, ``additional``)."""


@dataclass(frozen=True, slots=True)
class Loaders:
    """The loaders of one domain within one request."""

    errors_by_job_id: DataLoader[ErrorsKey, list[dict[str, Any]]]
    controller_by_id: DataLoader[ObjectId, dict[str, Any] | None]
    job_by_job_id: DataLoader[str, dict[str, Any] | None]
    """Jobs by ``job_id`` (``node``/``nodes``)."""
    controller_by_controller_id: DataLoader[str, dict[str, Any] | None]
    """Controllers by ``controller_id`` (``node``/``nodes``)."""


BatchObserver = Callable[[str, int], None]
"""Told the loader name and the number of keys of every batch (for metrics)."""

K = TypeVar("K")
V = TypeVar("V")


def _observed(
    name: str, load: Callable[[Sequence[K]], Awaitable[list[V]]], on_batch: BatchObserver | None
) -> Callable[[list[K]], Awaitable[list[V]]]:
    async def load_batch(keys: list[K]) -> list[V]:
        if on_batch is not None:
            on_batch(name, len(keys))
        return await load(keys)

    return load_batch


def build_loaders(repository: JobRepository, on_batch: BatchObserver | None = None) -> Loaders:
    async def load_errors(keys: Sequence[ErrorsKey]) -> list[list[dict[str, Any]]]:
        # A request normally asks one set of parts; each distinct set is one query.
        by_parts: dict[frozenset[str], list[ObjectId]] = {}
        for job_id, parts in keys:
            by_parts.setdefault(parts, []).append(job_id)
        found: dict[ErrorsKey, list[dict[str, Any]]] = {}
        for parts, ids in by_parts.items():
            for job_id, errors in zip(ids, await repository.errors_by_job(ids, parts), strict=True):
                found[(job_id, parts)] = errors
        return [found[key] for key in keys]

    return Loaders(
        errors_by_job_id=DataLoader(load_fn=_observed("errors_by_job_id", load_errors, on_batch)),
        controller_by_id=DataLoader(
            load_fn=_observed("controller_by_id", repository.controllers_by_id, on_batch)
        ),
        job_by_job_id=DataLoader(load_fn=_observed("job_by_job_id", repository.jobs_by_job_id, on_batch)),
        controller_by_controller_id=DataLoader(
            load_fn=_observed("controller_by_controller_id", repository.controllers_by_controller_id, on_batch)
        ),
    )


def controller_loader(
    repository: JobRepository, on_batch: BatchObserver | None = None
) -> DataLoader[ObjectId, dict[str, Any] | None]:
    """A loader of controllers by ``_id`` (one batched query per tick)."""
    return DataLoader(load_fn=_observed("controller_by_id", repository.controllers_by_id, on_batch))


def document_loaders(
    document: dict[str, Any], controllers: DataLoader[ObjectId, dict[str, Any] | None]
) -> Loaders:
    """Loaders for one job document that is already whole (a change event's): its ``errors``
    come from the document itself, as they were at the change; controllers from ``controllers``
    (shared by every subscriber of a batch, so one query serves them all)."""
    errors: list[dict[str, Any]] = [e for e in document.get("errors") or () if isinstance(e, dict)]

    async def load_errors(keys: list[ErrorsKey]) -> list[list[dict[str, Any]]]:
        return [errors if key[0] == document["_id"] else [] for key in keys]

    async def load_nothing(keys: list[Any]) -> list[None]:  # events look up no global ids
        return [None for _ in keys]

    return Loaders(
        errors_by_job_id=DataLoader(load_fn=load_errors),
        controller_by_id=controllers,
        job_by_job_id=DataLoader(load_fn=load_nothing),
        controller_by_controller_id=DataLoader(load_fn=load_nothing),
    )
