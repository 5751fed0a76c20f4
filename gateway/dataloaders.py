"""Per-request DataLoaders: each batch is one bulk query through the domain's repository."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from strawberry.dataloader import DataLoader

from gateway.mongo.repository import JobRepository


@dataclass(frozen=True, slots=True)
class Loaders:
    """The loaders of one domain within one request."""

    errors_by_job_id: DataLoader[ObjectId, list[dict[str, Any]]]
    controller_by_id: DataLoader[ObjectId, dict[str, Any] | None]


def build_loaders(repository: JobRepository) -> Loaders:
    return Loaders(
        errors_by_job_id=DataLoader(load_fn=repository.errors_by_job),
        controller_by_id=DataLoader(load_fn=repository.controllers_by_id),
    )
