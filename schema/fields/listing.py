"""Root query fields for listing: thin resolvers that turn arguments into a neutral query,
call the domain's repository and map documents to types."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.context import GatewayContext
from schema.execution.prefetch import NestedWanted, nested_wanted_at, prefetch_page
from schema.execution.selection import (
    child_selections,
    field_names,
    field_selections,
    job_api_fields,
    per_document,
)
from schema.fields.convert import convenience_conditions, search_spec
from schema.types.cost import page
from schema.types.enums import JobStatus
from schema.types.inputs import SearchQuery
from schema.types.job import Job, JobsInfo

GatewayInfo = Info[GatewayContext, None]

DOMAIN_ID = strawberry.argument(
    description="The domain to read. Required when authentication is off; with a token the "
    "domain is the token's and a different value is refused (FORBIDDEN)."
)


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a ``jobs`` or ``job`` selection asks of the repository and the loaders: a function
    of the document and its variables, worked out once (:func:`per_document`)."""

    names: frozenset[str]
    """The fields selected on the field's own value."""
    job_fields: frozenset[str]
    """The ``Job`` fields to read, in API spelling."""
    nested: NestedWanted


def _wanted_of_page(info: GatewayInfo) -> Wanted:
    def compute() -> Wanted:
        selected = field_selections(info)
        return Wanted(
            frozenset(field_names(selected)),
            frozenset(job_api_fields(child_selections(selected, "results"))),
            nested_wanted_at(info, ("results",)),
        )

    return per_document(info, ("wanted of page",), compute)


def _wanted_of_job(info: GatewayInfo) -> Wanted:
    def compute() -> Wanted:
        fields = frozenset(job_api_fields(field_selections(info)))
        return Wanted(frozenset(), fields, nested_wanted_at(info, ()))

    return per_document(info, ("wanted of job",), compute)


async def resolve_jobs(
    info: GatewayInfo,
    query: Annotated[SearchQuery | None, strawberry.argument(description="The search query.")] = None,
    job_id: Annotated[str | None, strawberry.argument(description="Only this job (eq).")] = None,
    status: Annotated[
        JobStatus | None, strawberry.argument(description="Only this status; NONE: any status.")
    ] = None,
    schedule_id: Annotated[
        str | None, strawberry.argument(description="Only jobs of this schedule (eq).")
    ] = None,
    project_id: Annotated[
        str | None, strawberry.argument(description="Only jobs of this project (eq).")
    ] = None,
    domain_id: Annotated[str | None, DOMAIN_ID] = None,
) -> JobsInfo:
    scope = info.context.scope(domain_id)
    extra = convenience_conditions(job_id=job_id, status=status, schedule_id=schedule_id, project_id=project_id)
    spec = search_spec(query, extra, info.context.settings)
    wanted = _wanted_of_page(info)
    page = await scope.repository.search(
        spec if "results" in wanted.names else replace(spec, count_only=True),  # no page query
        wanted.job_fields,
        with_count="totalCount" in wanted.names,
    )
    loaders, prefetch = await prefetch_page(scope.loaders, page.documents, wanted.nested)
    return JobsInfo(
        results=[Job.from_document(doc, loaders, prefetch=prefetch) for doc in page.documents],
        total_count=page.total_count or 0,
    )


async def resolve_job(
    info: GatewayInfo,
    job_id: Annotated[strawberry.ID, strawberry.argument(description="The job's `job_id`.")],
    domain_id: Annotated[str | None, DOMAIN_ID] = None,
) -> Job | None:
    scope = info.context.scope(domain_id)
    wanted = _wanted_of_job(info)
    document = await scope.repository.find_job(str(job_id), wanted.job_fields)
    if document is None:
        return None
    loaders, prefetch = await prefetch_page(scope.loaders, [document], wanted.nested)
    return Job.from_document(document, loaders, prefetch=prefetch)


@strawberry.type
class ListingQueries:
    jobs: JobsInfo = strawberry.field(
        resolver=resolve_jobs,
        directives=[page(["query.page.limit"], ["results"])],
        description="Jobs matching a SpaceONE search query (the `list` method): one page and, "
        "when selected, the total count.",
    )
    job: Job | None = strawberry.field(
        resolver=resolve_job,
        description="One job by id; null when it does not exist in the domain.",
    )
