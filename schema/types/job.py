"""Output types. Job fields are plain attributes built once from the stored document; only
``errors`` and ``controllerInfo`` have resolvers, and those go through the request's loaders
(or return what the listing resolver already loaded for the whole page: schema/prefetch.py)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import strawberry
from bson import ObjectId

from gateway.dataloaders import Loaders
from gateway.mongo.documents import controller_ref, controller_values, error_values, job_values, plugin_values
from schema.execution.prefetch import PagePrefetch, errors_parts, prefetched_parts
from schema.types.cost import ListSize
from schema.types.enums import JobStatus, job_status
from schema.types.global_id import encode_global_id
from schema.types.node import Node
from schema.types.scalars import JSON


@strawberry.type(description="One error a job ran into.")
class ErrorInfo:
    error_code: str = strawberry.field(description="SpaceONE error code, e.g. ERROR_NOT_FOUND.")
    message: str = strawberry.field(description="What went wrong (up to 2,000 characters).")
    additional: JSON | None = strawberry.field(description="Further details the service attached, as stored.")

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ErrorInfo:
        return cls(**error_values(document))


@strawberry.type(description="The plugin a controller runs.")
class PluginInfo:
    plugin_id: str = strawberry.field(description="Plugin identifier.")
    version: str | None = strawberry.field(description="Plugin version.")
    options: JSON | None = strawberry.field(description="Options given to the plugin.")
    provider: str | None = strawberry.field(description="Cloud provider the plugin serves.")
    metadata: JSON | None = strawberry.field(description="Metadata the plugin reported.")


@strawberry.type(description="The power controller that ran a job (from the `controller` collection).")
class ControllerInfo(Node):
    controller_id: str = strawberry.field(description="Controller identifier, `controller-<hex>`.")
    name: str | None = strawberry.field(description="Controller name.")
    provider: str | None = strawberry.field(description="Cloud provider.")
    capability: JSON | None = strawberry.field(description="What the controller can do.")
    plugin_info: PluginInfo | None = strawberry.field(description="The plugin it runs.")
    tags: JSON | None = strawberry.field(description="Tags, as stored.")
    created_at: datetime | None = strawberry.field(description="When it was created (UTC).")
    domain_id: str | None = strawberry.field(description="The domain it belongs to.")

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ControllerInfo:
        values = controller_values(document)
        plugin = values["plugin_info"]
        values["plugin_info"] = PluginInfo(**plugin_values(plugin)) if plugin is not None else None
        global_id = encode_global_id("ControllerInfo", str(values["domain_id"] or ""), values["controller_id"])
        return cls(id=strawberry.ID(global_id), **values)


@strawberry.type(description="A power-scheduler job: one run of a schedule over its resources.")
class Job(Node):
    job_id: strawberry.ID = strawberry.field(description="Job identifier, `job-<12 hex>`.")
    status: JobStatus = strawberry.field(description="Current state.")
    filter: JSON | None = strawberry.field(
        description="The resource filter the job ran with (stored as `filters`)."
    )
    total_tasks: int = strawberry.field(description="Number of tasks in the job.")
    remained_tasks: int = strawberry.field(description="Tasks not finished yet.")
    schedule_id: str | None = strawberry.field(description="The schedule that started the job.")
    project_id: str | None = strawberry.field(description="The project the job belongs to.")
    domain_id: str = strawberry.field(description="The domain (tenant) of the job.")
    created_at: datetime | None = strawberry.field(description="When the job was created (UTC).")
    updated_at: datetime | None = strawberry.field(description="Last update (UTC).")
    finished_at: datetime | None = strawberry.field(
        description="When it finished (UTC); null until SUCCESS, ERROR, TIMEOUT or CANCELED."
    )
    object_id: strawberry.Private[ObjectId]
    controller_ref: strawberry.Private[ObjectId | None]
    loaders: strawberry.Private[Loaders]

    prefetch: strawberry.Private[PagePrefetch | None]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Errors the job ran into (batched per request).",
        graphql_type=list[ErrorInfo],
        directives=[ListSize(assumed_size=1)],
    )
    def errors(self, info: strawberry.Info) -> list[ErrorInfo] | Awaitable[list[ErrorInfo]]:
        prefetch = self.prefetch
        return self.errors_for(errors_parts(info) if prefetch is None else prefetched_parts(info, prefetch))

    def errors_for(self, parts: frozenset[str]) -> list[ErrorInfo] | Awaitable[list[ErrorInfo]]:
        """The job's errors with these parts: from the page's prefetch when it holds them, else
        through the request's loader (an awaitable). Compiled plans call this directly."""
        prefetch = self.prefetch
        page = prefetch.errors.get(parts) if prefetch is not None else None
        if page is None:
            return self._load_errors(parts)
        return [ErrorInfo.from_document(document) for document in page[self.object_id]]

    async def _load_errors(self, parts: frozenset[str]) -> list[ErrorInfo]:
        documents = await self.loaders.errors_by_job_id.load((self.object_id, parts))
        return [ErrorInfo.from_document(document) for document in documents]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The controller that ran the job (batched per request); null when the job "
        "has none or its controller was deleted.",
        graphql_type=ControllerInfo | None,
    )
    def controller_info(self) -> ControllerInfo | None | Awaitable[ControllerInfo | None]:
        return self.controller()

    def controller(self) -> ControllerInfo | None | Awaitable[ControllerInfo | None]:
        """The job's controller: from the page's prefetch, else through the request's loader
        (an awaitable). Compiled plans call this directly."""
        prefetch = self.prefetch
        if prefetch is None or prefetch.controllers is None:
            return self._load_controller()
        if self.controller_ref is None:
            return None
        document = prefetch.controllers[self.controller_ref]
        return ControllerInfo.from_document(document) if document else None

    async def _load_controller(self) -> ControllerInfo | None:
        if self.controller_ref is None:
            return None
        document = await self.loaders.controller_by_id.load(self.controller_ref)
        return ControllerInfo.from_document(document) if document else None

    @classmethod
    def from_document(
        cls, document: dict[str, Any], loaders: Loaders, *, prefetch: PagePrefetch | None = None
    ) -> Job:
        """The job of a stored document. Its attributes are set as the dataclass ``__init__``
        would set them, without the call (one per job of every page), except ``id``: that is
        encoded when first read (:meth:`__getattr__`), as most selections never ask for it."""
        job = object.__new__(cls)
        attributes = job.__dict__
        attributes.update(job_values(document))
        attributes["status"] = job_status(attributes["status"])
        attributes["object_id"] = document["_id"]
        attributes["controller_ref"] = controller_ref(document)
        attributes["loaders"] = loaders
        attributes["prefetch"] = prefetch
        return job

    def __getattr__(self, name: str) -> Any:
        """Called only for an attribute not set: ``id`` on its first read."""
        if name != "id":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        attributes = self.__dict__
        global_id = attributes["id"] = strawberry.ID(
            encode_global_id("Job", attributes["domain_id"], attributes["job_id"])
        )
        return global_id


@strawberry.type(description="A page of jobs, as SpaceONE's `JobsInfo`.")
class JobsInfo:
    results: list[Job] = strawberry.field(description="The jobs of the requested page.")
    total_count: int = strawberry.field(description="Every job that matches the query, counted before paging.")
