"""``jobsConnection``: typed filters, any order, and keyset cursors (Relay-style connection).

The resolver only translates: arguments → neutral filter, order and page request; the cursor
codec and range logic live in ``gateway.mongo.pagination``, the query in the repository.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import Selection

from gateway.context import GatewayContext
from gateway.dataloaders import Loaders
from gateway.mongo.expr import SortKey
from gateway.mongo.pagination import (
    CursorCodec,
    Order,
    PageSlice,
    connection_order,
    keyset_query,
    page_request,
    page_slice,
    position_of,
)
from schema.execution.prefetch import PagePrefetch, nested_wanted_at, prefetch_page
from schema.execution.selection import child_selections, field_names, field_selections, job_api_fields
from schema.fields.listing import DOMAIN_ID
from schema.types.cost import page
from schema.types.enums import OrderDirection
from schema.types.filters import JobFilter, job_filter_expr
from schema.types.inputs import JobOrder
from schema.types.job import Job

GatewayInfo = Info[GatewayContext, None]


@strawberry.type(description="Where a page sits in the whole connection.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More jobs follow the last one of this page (exact).")
    has_previous_page: bool = strawberry.field(description="Jobs precede the first one of this page (exact).")
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first job of the page; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last job of the page; null when the page is empty."
    )


@strawberry.type(description="A job and its position in the connection.")
class JobEdge:
    cursor: str = strawberry.field(description="Opaque position of this job: pass it as `after` or `before`.")
    node: Job = strawberry.field(description="The job.")


@strawberry.type(description="A page of jobs in a stable order, with cursors to walk on.")
class JobConnection:
    edges: list[JobEdge] = strawberry.field(description="The jobs of the page with their cursors.")
    nodes: list[Job] = strawberry.field(description="The jobs of the page (the edges' nodes).")
    page_info: PageInfo = strawberry.field(description="Cursors and neighbours of this page.")
    total_count: int = strawberry.field(
        description="Every job that matches the filter, regardless of paging (counted only when selected)."
    )


@dataclass(frozen=True, slots=True)
class _Wanted:
    """What the selection set needs from the database."""

    job_fields: set[str]
    edges: bool
    total_count: bool
    page_info: set[str]

    @classmethod
    def of(cls, selections: list[Selection]) -> _Wanted:
        edges = child_selections(selections, "edges")
        nodes = [*child_selections(selections, "nodes"), *child_selections(edges, "node")]
        names = field_names(selections)
        return cls(
            job_fields=job_api_fields(nodes),
            edges="edges" in names,
            total_count="totalCount" in names,
            page_info=field_names(child_selections(selections, "pageInfo")),
        )


@lru_cache(maxsize=8)
def cursor_codec(secret: str) -> CursorCodec:
    """The codec of a secret, made once per process (it derives its signing key)."""
    return CursorCodec(secret)


def order_keys(order_by: Iterable[JobOrder] | None) -> tuple[SortKey, ...]:
    return tuple(
        SortKey(str(item.field.value), desc=item.direction is OrderDirection.DESC) for item in order_by or ()
    )


async def resolve_jobs_connection(
    info: GatewayInfo,
    filter: Annotated[
        JobFilter | None,
        strawberry.argument(description="Which jobs; null or `{}` matches every job."),
    ] = None,
    order_by: Annotated[
        list[JobOrder] | None,
        strawberry.argument(
            description="Order, most significant key first (default: CREATED_AT DESC). The job's "
            "`_id` always breaks ties, in the direction of the last key."
        ),
    ] = None,
    first: Annotated[
        int | None,
        strawberry.argument(
            description="Page size, reading forwards (after `after`). Without `first` and "
            "`last`: the default page size (100). At most the maximum page size (1,000)."
        ),
    ] = None,
    after: Annotated[
        str | None,
        strawberry.argument(description="Start after this cursor (from the same `orderBy`)."),
    ] = None,
    last: Annotated[
        int | None,
        strawberry.argument(
            description="Page size, reading backwards (the last jobs before `before`); not "
            "together with `first`."
        ),
    ] = None,
    before: Annotated[
        str | None,
        strawberry.argument(description="End before this cursor (from the same `orderBy`)."),
    ] = None,
    domain_id: Annotated[str | None, DOMAIN_ID] = None,
) -> JobConnection:
    settings = info.context.settings
    scope = info.context.scope(domain_id)
    order = connection_order(order_keys(order_by))
    request = page_request(
        first,
        last,
        only_before=before is not None and after is None,
        default_size=settings.default_page_size,
        max_size=settings.max_page_size,
    )
    codec = cursor_codec(settings.cursor_secret.get_secret_value())
    keyset = keyset_query(
        order,
        request,
        codec.decode(after, order, "after") if after is not None else None,
        codec.decode(before, order, "before") if before is not None else None,
    )
    wanted = _Wanted.of(field_selections(info))
    behind_field = "hasNextPage" if request.backward else "hasPreviousPage"
    page = await scope.repository.keyset_page(
        job_filter_expr(filter),
        keyset,
        wanted.job_fields,
        with_count=wanted.total_count,
        look_behind=behind_field in wanted.page_info,
    )
    rows = page_slice(page.documents, keyset, backward=request.backward, anything_behind=page.anything_behind)
    loaders, prefetch = await prefetch_page(
        scope.loaders, rows.documents, nested_wanted_at(info, ("nodes",), ("edges", "node"))
    )
    return _connection(rows, order, codec, loaders, wanted, page.total_count, prefetch)


def _connection(
    rows: PageSlice,
    order: Order,
    codec: CursorCodec,
    loaders: Loaders,
    wanted: _Wanted,
    total_count: int | None,
    prefetch: PagePrefetch | None,
) -> JobConnection:
    nodes = [Job.from_document(document, loaders, prefetch=prefetch) for document in rows.documents]
    start_cursor = end_cursor = None
    if rows.documents:
        start_cursor = codec.encode(order, position_of(rows.documents[0], order))
        end_cursor = codec.encode(order, position_of(rows.documents[-1], order))
    edges = (
        [
            JobEdge(cursor=codec.encode(order, position_of(document, order)), node=node)
            for document, node in zip(rows.documents, nodes, strict=True)
        ]
        if wanted.edges
        else []
    )
    return JobConnection(
        edges=edges,
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=rows.has_next,
            has_previous_page=rows.has_previous,
            start_cursor=start_cursor,
            end_cursor=end_cursor,
        ),
        total_count=total_count or 0,
    )


@strawberry.type
class ConnectionQueries:
    jobs_connection: JobConnection = strawberry.field(
        resolver=resolve_jobs_connection,
        directives=[page(["first", "last"], ["edges", "nodes"])],
        description="Jobs matching a typed filter, in any order, paged with stable keyset "
        "cursors: a page neither skips nor repeats jobs while others are added or removed.",
    )
