"""The fan-out: subscriptions of every domain, fed from ONE change feed of the process.

Every raw change is scoped to its job's domain first (a delete, which carries only the
``_id``, takes the domain remembered from the job's earlier events); then, per batch of changes
and per domain that has subscribers, each distinct ``JobFilter`` is answered by one ``find`` on
the changed ``_id`` values through the domain's repository (the same compiler as
``jobsConnection``, so a subscription's filter cannot disagree with a query); each matching
subscription gets the change in its bounded queue. The commands sent depend on the changes and
the distinct filters, never on the number of subscribers.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from gateway.dataloaders import Loaders, controller_loader, document_loaders
from gateway.errors import GatewayError, RateLimited, ResyncRequired, ServiceUnavailable, SlowConsumer
from gateway.live.cursors import token_key
from gateway.mongo.expr import Expr
from gateway.mongo.repository import JobRepository

log = logging.getLogger("gateway.live")

KNOWN_JOBS = 200_000
"""Jobs whose domain the hub remembers (for deletes, which name only the ``_id``)."""


class ChangeKind(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one job, scoped to its domain."""

    kind: ChangeKind
    domain_id: str
    object_id: ObjectId
    job_id: str
    document: dict[str, Any] | None
    """The job after the change; None when deleted."""
    token: Mapping[str, Any] | None = None
    """The change stream's resume token (None when polled)."""
    position: tuple[Any, ObjectId] | None = None
    """The (``updated_at``, ``_id``) of a polled change."""

    @property
    def key(self) -> str | None:
        return token_key(self.token) if self.token is not None else None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A change for one subscriber, with the loaders its job's nested fields resolve through."""

    change: Change
    loaders: Loaders


@dataclass(slots=True)
class ConnectionSubscriptions:
    """How many subscriptions one WebSocket or SSE connection holds (its limit).

    ``shared``: the execution a group of identical subscriptions shares (see
    ``gateway.http.shared_subscriptions``); it is not limited nor counted, its members are."""

    limit: int
    open: int = 0
    shared: bool = False
    on_subscribed: Callable[[], None] | None = None
    """Called once a subscription of this connection is registered (a shared execution's)."""


_END = object()


class Subscription:
    """One subscriber: a job (``jobUpdated``) or a filter (``jobsChanged``) in one domain."""

    def __init__(
        self,
        hub: LiveHub,
        repository: JobRepository,
        connection: ConnectionSubscriptions,
        *,
        job_id: str | None,
        where: Expr | None,
        buffer: int,
        resume: Mapping[str, Any] | None = None,
    ) -> None:
        self.hub = hub
        self.repository = repository
        self.domain_id = repository.domain_id
        self.connection = connection
        self.job_id = job_id
        self.where = where
        self.filter_key = repr(where) if where is not None else None
        self.delivered: set[ObjectId] = set()
        self.buffer = buffer
        self.queue: asyncio.Queue[Delivery | GatewayError] = asyncio.Queue(buffer + 1)
        self.ended = False
        self.resume = resume
        self.backlog: list[Delivery] | None = [] if resume is not None else None
        self.skip: set[str] = set()

    # producer side (the hub) ----------------------------------------------------------------

    def wants(self, change: Change, index: int, matched: set[int] | None) -> bool:
        """Whether the batch's change number ``index`` is for this subscriber (``matched``: the
        indexes its filter matched)."""
        if self.job_id is not None:
            return change.job_id == self.job_id
        if self.where is None:
            return True
        if change.kind is ChangeKind.DELETED:
            return change.object_id in self.delivered
        return matched is not None and index in matched

    def offer(self, delivery: Delivery) -> None:
        if self.ended:
            return
        key = delivery.change.key
        if self.skip:  # changes the catch-up stream has delivered already
            if key in self.skip:
                self.skip.discard(key)
                return
            self.skip.clear()
        if self.backlog is not None:
            if len(self.backlog) >= self.buffer:
                self.end(self._slow())
            else:
                self.backlog.append(delivery)
            return
        if self.queue.qsize() >= self.buffer:
            self.end(self._slow())
            return
        self._note(delivery)
        self.queue.put_nowait(delivery)

    def end(self, error: GatewayError) -> None:
        """End the stream with ``error`` after what is queued (idempotent)."""
        if self.ended:
            return
        self.ended = True
        self.queue.put_nowait(error)  # the one slot kept free for it
        self.hub.forget(self)

    def _slow(self) -> SlowConsumer:
        return self.hub.slow_consumer()

    def _note(self, delivery: Delivery) -> None:
        if self.where is not None and delivery.change.kind is not ChangeKind.DELETED:
            self.delivered.add(delivery.change.object_id)
        elif delivery.change.kind is ChangeKind.DELETED:
            self.delivered.discard(delivery.change.object_id)

    # consumer side (the resolver) -----------------------------------------------------------

    async def deliveries(self) -> AsyncGenerator[Delivery, None]:
        """Every delivery in order (the catch-up after ``resume`` first); raises the error the
        stream ended with. Closing the iterator ends the subscription."""
        try:
            if self.resume is not None:
                async for delivery in self.hub.catch_up(self, self.resume):
                    self._note(delivery)
                    yield delivery
                self._finish_catch_up()
            while True:
                item = await self.queue.get()
                if isinstance(item, GatewayError):
                    raise item
                self.hub.stats.executed += 1
                if not self.connection.shared:  # a shared execution's members count themselves
                    self.hub.stats.delivered += 1
                yield item
        finally:
            self.close()

    def _finish_catch_up(self) -> None:
        backlog, self.backlog = self.backlog or [], None
        for delivery in backlog:
            self.offer(delivery)

    def close(self) -> None:
        if not self.ended:
            self.ended = True
            self.hub.forget(self)


@dataclass(slots=True)
class LiveStats:
    """Counters for the metrics endpoint."""

    received: int = 0
    delivered: int = 0
    executed: int = 0
    """Events handed to an execution: one per single subscription, one per shared group."""
    slow_consumers: int = 0
    feed_restarts: int = 0
    batches: int = 0
    mode: str = "starting"


CatchUp = Callable[[Subscription, Mapping[str, Any]], AsyncIterator[Delivery]]


@dataclass(slots=True)
class _Domain:
    repository: JobRepository
    subscriptions: set[Subscription] = field(default_factory=set)


class LiveHub:
    """Subscriptions by domain, and the fan-out of scoped changes to them."""

    def __init__(self, *, max_subscriptions: int, buffer: int) -> None:
        self.max_subscriptions = max_subscriptions
        self.buffer = buffer
        self.stats = LiveStats()
        self._domains: dict[str, _Domain] = {}
        self._count = 0
        self._known: OrderedDict[ObjectId, tuple[str, str]] = OrderedDict()
        self.catch_up_source: CatchUp | None = None
        self.on_domain_watched: Callable[[str], None] | None = None
        self.closing: GatewayError | None = None
        self.ready = asyncio.Event()

    @property
    def subscription_count(self) -> int:
        return self._count

    def domains(self) -> list[str]:
        return list(self._domains)

    def repository_of(self, domain: str) -> JobRepository | None:
        entry = self._domains.get(domain)
        return entry.repository if entry else None

    # subscribing ----------------------------------------------------------------------------

    def subscribe(
        self,
        repository: JobRepository,
        connection: ConnectionSubscriptions,
        *,
        job_id: str | None = None,
        where: Expr | None = None,
        resume: Mapping[str, Any] | None = None,
    ) -> Subscription:
        """Register a subscriber (it receives every change scoped to its domain from now on)."""
        self.admit(connection)
        subscription = Subscription(
            self,
            repository,
            connection,
            job_id=job_id,
            where=where,
            buffer=self.buffer,
            resume=resume,
        )
        domain = self._domains.get(repository.domain_id)
        if domain is None:
            domain = self._domains[repository.domain_id] = _Domain(repository)
            if self.on_domain_watched is not None:
                self.on_domain_watched(repository.domain_id)
        domain.subscriptions.add(subscription)
        if connection.on_subscribed is not None:
            connection.on_subscribed()
        return subscription

    def admit(self, connection: ConnectionSubscriptions) -> None:
        """Count one more subscription of ``connection``, within the per-connection and
        per-process limits (RATE_LIMITED past either; SERVICE_UNAVAILABLE while draining)."""
        if self.closing is not None:
            raise self.closing
        if connection.shared:
            return
        if connection.open >= connection.limit:
            raise RateLimited(
                f"this connection already holds {connection.limit} subscriptions "
                "(GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION)"
            )
        if self._count >= self.max_subscriptions:
            raise RateLimited(
                "the gateway holds as many subscriptions as it may (GATEWAY_MAX_SUBSCRIPTIONS); try again later"
            )
        connection.open += 1
        self._count += 1

    def release(self, connection: ConnectionSubscriptions) -> None:
        """The counterpart of :meth:`admit`."""
        if not connection.shared:
            connection.open -= 1
            self._count -= 1

    def slow_consumer(self) -> SlowConsumer:
        """The error ending a subscriber that fell ``buffer`` events behind (counted)."""
        self.stats.slow_consumers += 1
        return SlowConsumer(
            f"the subscriber fell more than {self.buffer} events behind "
            "(GATEWAY_LIVE_BUFFER_EVENTS); query again, then subscribe"
        )

    def forget(self, subscription: Subscription) -> None:
        domain = self._domains.get(subscription.domain_id)
        if domain is None or subscription not in domain.subscriptions:
            return
        domain.subscriptions.discard(subscription)
        self.release(subscription.connection)
        if not domain.subscriptions:
            del self._domains[subscription.domain_id]

    def watching(self, domain: str) -> bool:
        return domain in self._domains

    def remember(self, document: Mapping[str, Any]) -> None:
        """Remember a job's domain and id (for its delete, which carries only ``_id``)."""
        object_id, domain = document.get("_id"), document.get("domain_id")
        if isinstance(object_id, ObjectId) and isinstance(domain, str):
            self._known[object_id] = (domain, str(document.get("job_id") or ""))
            self._known.move_to_end(object_id)
            if len(self._known) > KNOWN_JOBS:
                self._known.popitem(last=False)

    def end_all(self, error: GatewayError) -> None:
        """End every subscription with ``error`` (after what each has queued)."""
        for domain in list(self._domains.values()):
            for subscription in list(domain.subscriptions):
                subscription.end(error)

    def drain(self) -> None:
        """Shutting down: refuse new subscriptions and tell every subscriber."""
        self.closing = ServiceUnavailable("the gateway is shutting down; subscribe again")
        self.end_all(self.closing)

    # scoping --------------------------------------------------------------------------------

    def scope_change(self, raw: Mapping[str, Any]) -> Change | None:
        """A change stream event as a :class:`Change` of its job's domain (None: not a job's)."""
        operation = raw.get("operationType")
        token = raw.get("_id")
        if operation == "delete":
            key = (raw.get("documentKey") or {}).get("_id")
            # Kept (not popped): a catch-up stream may read the same delete again.
            known = self._known.get(key) if isinstance(key, ObjectId) else None
            if known is None:
                return None  # a job this process never saw: its domain is unknown
            assert isinstance(key, ObjectId)
            return Change(ChangeKind.DELETED, known[0], key, known[1], None, token)
        document = raw.get("fullDocument")
        if not isinstance(document, dict) or not isinstance(document.get("domain_id"), str):
            return None  # updated, then deleted before the lookup: its delete event follows
        if not isinstance(document.get("_id"), ObjectId):
            return None
        self.remember(document)
        kind = ChangeKind.CREATED if operation == "insert" else ChangeKind.UPDATED
        return Change(
            kind,
            document["domain_id"],
            document["_id"],
            str(document.get("job_id") or ""),
            document,
            token,
        )

    # fan-out --------------------------------------------------------------------------------

    async def fan_out(self, changes: list[Change]) -> None:
        """Deliver scoped changes, in order, to every subscription that wants them."""
        self.stats.received += len(changes)
        self.stats.batches += 1
        by_domain: dict[str, list[Change]] = {}
        for change in changes:
            if change.domain_id in self._domains:
                by_domain.setdefault(change.domain_id, []).append(change)
        await asyncio.gather(*(self._fan_out_domain(d, c) for d, c in by_domain.items()))

    async def _fan_out_domain(self, domain_id: str, changes: list[Change]) -> None:
        domain = self._domains.get(domain_id)
        if domain is None:
            return
        await deliver(domain.repository, changes, list(domain.subscriptions))

    async def catch_up(self, subscription: Subscription, token: Mapping[str, Any]) -> AsyncIterator[Delivery]:
        """The changes after ``token`` up to the live feed (change streams only)."""
        if self.catch_up_source is None:
            raise ResyncRequired(
                "this gateway polls for changes (no change streams): a cursor cannot be resumed "
                "from; query again, then subscribe without `after`"
            )
        async for delivery in self.catch_up_source(subscription, token):
            yield delivery

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the change source is known and running (at start, or while MongoDB is
        unreachable at start): a subscription must not begin before changes are being read."""
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
        except TimeoutError:
            raise ServiceUnavailable(
                "live updates are not available yet (the job database is not reachable); try again shortly"
            ) from None


async def matches_by_filter(
    repository: JobRepository, changes: list[Change], subscribers: list[Subscription]
) -> dict[str, set[int] | GatewayError]:
    """One database command per distinct filter among ``subscribers``, on the batch's job
    documents: for each filter, the indexes (in ``changes``) of the changes it matches."""
    filters: dict[str, Expr] = {
        s.filter_key: s.where for s in subscribers if s.filter_key is not None and s.where is not None
    }
    present = [(i, c.document) for i, c in enumerate(changes) if c.document is not None]
    if not filters or not present:
        return {}
    documents = [document for _, document in present]
    keys = list(filters)
    outcomes: list[Any] = await asyncio.gather(
        *(repository.matching_documents(filters[key], documents) for key in keys),
        return_exceptions=True,
    )
    found: dict[str, set[int] | GatewayError] = {}
    for key, outcome in zip(keys, outcomes, strict=True):
        if isinstance(outcome, GatewayError):
            found[key] = outcome
        elif isinstance(outcome, BaseException):
            log.error("matching changes failed", exc_info=outcome)
            found[key] = ServiceUnavailable("live updates failed; subscribe again")
        else:
            found[key] = {present[position][0] for position in outcome}
    return found


async def deliver(
    repository: JobRepository,
    changes: list[Change],
    subscribers: list[Subscription],
    offer: Callable[[Subscription, Delivery], None] | None = None,
) -> None:
    """Match ``changes`` (one domain's, in order) against ``subscribers`` and offer each its own."""
    if not subscribers:
        return
    matched = await matches_by_filter(repository, changes, subscribers)
    controllers = controller_loader(repository)  # one per batch: shared by every subscriber
    for index, change in enumerate(changes):
        loaders = document_loaders(change.document or {"_id": change.object_id}, controllers)
        delivery = Delivery(change, loaders)
        for subscriber in subscribers:
            answer = matched.get(subscriber.filter_key or "")
            if isinstance(answer, GatewayError):
                subscriber.end(answer)
            elif subscriber.wants(change, index, answer):
                (offer or Subscription.offer)(subscriber, delivery)
