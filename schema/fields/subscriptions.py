"""Live updates: ``jobUpdated`` and ``jobsChanged`` (thin resolvers over ``gateway.live``).

The events carry the same ``Job`` type as queries, with the same selection, loaders and error
masking; a ``jobsChanged`` filter is answered by the database with the compiled ``JobFilter``
(never re-implemented here), so it means exactly what it means in ``jobsConnection``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator
from enum import Enum
from functools import lru_cache
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.context import GatewayContext
from gateway.dataloaders import build_loaders
from gateway.errors import NotFound, ResyncRequired, Unauthenticated
from gateway.live.cursors import LiveCursor, LiveCursorCodec
from gateway.live.hub import ChangeKind, Delivery
from schema.fields.listing import DOMAIN_ID
from schema.types.filters import JobFilter, job_filter_expr
from schema.types.job import Job

GatewayInfo = Info[GatewayContext, None]


@strawberry.enum(description="What happened to a job.")
class JobChangeKind(Enum):
    CREATED = strawberry.enum_value("CREATED", description="The job was inserted.")
    UPDATED = strawberry.enum_value("UPDATED", description="The job was updated or replaced.")
    DELETED = strawberry.enum_value("DELETED", description="The job was deleted.")


@strawberry.type(description="One change of one job, in the order MongoDB applied them.")
class JobChange:
    kind: JobChangeKind = strawberry.field(description="Insert, update or delete.")
    job_id: str = strawberry.field(description="The changed job's `job_id`.")
    job: Job | None = strawberry.field(description="The job after the change; null when DELETED.")
    cursor: str = strawberry.field(
        description="Opaque resume point: pass it as `after` to continue after this change."
    )


@lru_cache(maxsize=8)
def live_codec(secret: str) -> LiveCursorCodec:
    return LiveCursorCodec(secret)


async def _until_expiry(
    deliveries: AsyncGenerator[Delivery, None], expires_at: float | None
) -> AsyncIterator[Delivery]:
    """``deliveries`` until the caller's token expires (then UNAUTHENTICATED ends the stream)."""
    if expires_at is None:
        async for delivery in deliveries:
            yield delivery
        return
    while True:
        remaining = None if expires_at is None else expires_at - time.time()
        if remaining is not None and remaining <= 0:
            raise Unauthenticated("the token has expired")
        try:
            yield await asyncio.wait_for(anext(deliveries), remaining)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise Unauthenticated("the token has expired") from None


async def resolve_job_updated(
    info: GatewayInfo,
    job_id: Annotated[strawberry.ID, strawberry.argument(description="The job's `job_id`.")],
    domain_id: Annotated[str | None, DOMAIN_ID] = None,
) -> AsyncGenerator[Job, None]:
    context = info.context
    context.check_authenticated()
    scope = context.scope(domain_id)
    hub, connection = context.live_hub()
    await hub.wait_ready()
    # Subscribed before the current state is read: no change between the two is missed.
    subscription = hub.subscribe(scope.repository, connection, job_id=str(job_id))
    deliveries = subscription.deliveries()
    try:
        document = await scope.repository.find_job(str(job_id), None)
        if document is None:
            raise NotFound(f"there is no job {str(job_id)!r} in this domain")
        hub.remember(document)
        yield Job.from_document(document, build_loaders(scope.repository))
        async for delivery in _until_expiry(deliveries, context.principal.expires_at):
            change = delivery.change
            if change.kind is ChangeKind.DELETED or change.document is None:
                return
            yield Job.from_document(change.document, delivery.loaders)
    finally:
        await deliveries.aclose()
        subscription.close()


async def resolve_jobs_changed(
    info: GatewayInfo,
    filter: Annotated[
        JobFilter | None,
        strawberry.argument(
            description="Only changes after which the job matches this filter "
            "(as in `jobsConnection`); null: every change of the domain."
        ),
    ] = None,
    after: Annotated[
        str | None,
        strawberry.argument(description="Resume after this `cursor` of an earlier event."),
    ] = None,
    domain_id: Annotated[str | None, DOMAIN_ID] = None,
) -> AsyncGenerator[JobChange, None]:
    context = info.context
    context.check_authenticated()
    scope = context.scope(domain_id)
    hub, connection = context.live_hub()
    where = job_filter_expr(filter) if filter is not None else None
    if where is not None:
        scope.repository.check_filter(where)
    codec = live_codec(context.settings.cursor_secret.get_secret_value())
    resume = None
    if after is not None:
        resume = codec.decode(after).token
        if resume is None:
            raise ResyncRequired(
                "cursors made while polling cannot be resumed from; query again, then subscribe"
            )
    await hub.wait_ready()
    subscription = hub.subscribe(scope.repository, connection, where=where, resume=resume)
    deliveries = subscription.deliveries()
    try:
        async for delivery in _until_expiry(deliveries, context.principal.expires_at):
            change = context.live_change = delivery.change
            yield JobChange(
                kind=JobChangeKind(change.kind.value),
                job_id=change.job_id,
                job=Job.from_document(change.document, delivery.loaders) if change.document else None,
                cursor=codec.encode(LiveCursor(token=change.token, position=change.position)),
            )
    finally:
        await deliveries.aclose()
        subscription.close()


@strawberry.type(description="Live updates of jobs (WebSocket or Server-Sent Events).")
class Subscription:
    job_updated: Job = strawberry.subscription(  # type: ignore[assignment]
        resolver=resolve_job_updated,
        description="The job as it is now, then again after every change to it, in order; ends "
        "when it is deleted (NOT_FOUND when it does not exist in the domain).",
    )
    jobs_changed: JobChange = strawberry.subscription(  # type: ignore[assignment]
        resolver=resolve_jobs_changed,
        description="Every insert, update and delete of the domain's jobs, in the order MongoDB "
        "applied them, after which the job matches `filter` (a DELETED event when this "
        "subscription delivered the job before, or without a filter).",
    )
