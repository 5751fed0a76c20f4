"""``node`` and ``nodes``: objects by global id (the Relay server specification's root fields).

They take no argument but the ids: the domain comes from each id. With a token, an id of
another domain is null, exactly like an unknown one (nothing is read for it); with
authentication off, the id's own domain is read. Every lookup goes through the request's
loaders, so all the ids of a request (``nodes`` and any number of ``node`` fields) cost one
command per type and domain.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.context import GatewayContext
from gateway.errors import InvalidParameter
from schema.types.cost import ListSize
from schema.types.global_id import GlobalId, decode_global_id
from schema.types.job import ControllerInfo, Job
from schema.types.node import Node

GatewayInfo = Info[GatewayContext, None]


async def load_node(context: GatewayContext, global_id: GlobalId) -> Node | None:
    """The object an id names, or None when it is unknown or outside the caller's domain."""
    own_domain = context.principal.domain_id
    if own_domain is not None and global_id.domain_id != own_domain:
        return None
    scope = context.scope(global_id.domain_id)
    if global_id.type_name == "Job":
        document = await scope.loaders.job_by_job_id.load(global_id.key)
        return Job.from_document(document, scope.loaders) if document else None
    controller = await scope.loaders.controller_by_controller_id.load(global_id.key)
    return ControllerInfo.from_document(controller) if controller else None


async def resolve_node(
    info: GatewayInfo,
    node_id: Annotated[
        strawberry.ID, strawberry.argument(name="id", description="A global `id` this API returned.")
    ],
) -> Node | None:
    return await load_node(info.context, decode_global_id(node_id))


async def resolve_nodes(
    info: GatewayInfo,
    ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(
            description="Global ids this API returned (at most the maximum page size, GATEWAY_MAX_PAGE_SIZE)."
        ),
    ],
) -> list[Node | None]:
    limit = info.context.settings.max_page_size
    if len(ids) > limit:
        raise InvalidParameter(
            f"`ids` has {len(ids)} ids, more than the maximum page size of {limit} (GATEWAY_MAX_PAGE_SIZE)"
        )
    global_ids = [decode_global_id(node_id) for node_id in ids]  # all checked before any read
    return list(await asyncio.gather(*(load_node(info.context, g) for g in global_ids)))


@strawberry.type
class NodeQueries:
    node: Node | None = strawberry.field(
        resolver=resolve_node,
        description="The object of a global id; null when it does not exist in the caller's domain.",
    )
    nodes: list[Node | None] = strawberry.field(
        resolver=resolve_nodes,
        directives=[ListSize(slicing_arguments=["ids"])],
        description="The objects of global ids, in the order given (null for each unknown one); "
        "one command per type.",
    )
