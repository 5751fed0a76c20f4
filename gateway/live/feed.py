"""Where changes come from: ONE change stream per process when the server has them, else one
poller per domain that has subscribers (never one per subscriber).

The change stream is read by one task into a queue; a second task takes what has arrived as a
batch (up to ``GATEWAY_LIVE_BATCH_EVENTS``), scopes it and fans it out, so a burst of changes
costs one matching ``find`` per distinct filter, not one per change. The resume token of the
last change read is kept: when the server goes away, the stream is reopened after it (nothing
lost or repeated); when the server cannot resume from it any more, every subscriber is told
``RESYNC_REQUIRED`` and the stream starts again from the present.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import suppress
from datetime import datetime
from typing import Any

from bson import ObjectId

from gateway.errors import ResyncRequired, ServiceUnavailable
from gateway.live.cursors import token_key
from gateway.live.hub import Change, ChangeKind, Delivery, LiveHub, Subscription, deliver
from gateway.mongo.client import ChangeStreamsUnsupported
from gateway.mongo.repository import JobChangeStream

log = logging.getLogger("gateway.live")

RETRY_SECONDS = 1.0
IDENTITY_CHECK_SECONDS = 2.0


class HistoryLost(Exception):
    """The server restarted in place: the stream's token may name a history it no longer has."""


class ChangeFeed:
    """Runs the process's change source for ``hub`` (start/stop with the application)."""

    def __init__(
        self,
        hub: LiveHub,
        stream: JobChangeStream,
        *,
        poll_seconds: float,
        batch_events: int,
        force_polling: bool = False,
    ) -> None:
        self.hub = hub
        self.stream = stream
        self.poll_seconds = poll_seconds
        self.batch_events = batch_events
        self.force_polling = force_polling
        self.token: Mapping[str, Any] | None = None
        self.identity: tuple[str, str] | None = None
        """(address, process id) of the server the stream reads; see :meth:`_check_identity`."""
        self._incoming: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue(maxsize=batch_events * 20)
        self._tasks: list[asyncio.Task[None]] = []
        self._pollers: dict[str, asyncio.Task[None]] = {}
        self.ready = hub.ready

    async def start(self) -> None:
        if self.force_polling:
            self._use_polling()
        else:
            self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._dispatch())]

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._pollers.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task

    # change stream --------------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            try:
                cursor = await self.stream.open(self.token)
            except ChangeStreamsUnsupported as why:
                log.info("no change streams on this database (%s): polling every %ss", why, self.poll_seconds)
                self._tasks = [task for task in self._tasks if task is not asyncio.current_task()]
                for task in self._tasks:
                    task.cancel()
                self._use_polling()
                return
            except ResyncRequired:
                log.warning("the change stream cannot resume from its token: subscribers resync")
                self.token = None
                self.hub.stats.feed_restarts += 1
                self.hub.end_all(
                    ResyncRequired(
                        "the change history was lost (the database restarted or failed over); "
                        "query again, then subscribe"
                    )
                )
                continue
            except ServiceUnavailable:
                await asyncio.sleep(RETRY_SECONDS)
                continue
            self.hub.stats.mode = "change_stream"
            self.hub.catch_up_source = self.catch_up
            self.ready.set()
            try:
                await self._pump(cursor)
            except HistoryLost:
                log.warning("the database restarted in place: subscribers resync")
                self.token = None
                self.hub.stats.feed_restarts += 1
                self.hub.end_all(
                    ResyncRequired(
                        "the database restarted; changes may have been lost: query again, then subscribe"
                    )
                )
            except (ServiceUnavailable, ResyncRequired) as error:
                log.warning("the change stream broke (%s); reopening after its token", error)
                self.hub.stats.feed_restarts += 1
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                with suppress(Exception):
                    await cursor.close()

    async def _pump(self, cursor: Any) -> None:
        """Read changes into the queue; while idle, check now and then that the server is the
        same process (a server restarted in place may have lost the history the token names,
        and the driver's own resume would not notice)."""
        await self._check_identity()
        checked = time.monotonic()
        while True:
            change = await cursor.try_next()
            if change is not None:
                self.token = change.get("_id")
                await self._incoming.put(change)
                continue
            if time.monotonic() - checked >= IDENTITY_CHECK_SECONDS:
                checked = time.monotonic()
                await self._check_identity()

    async def _check_identity(self) -> None:
        try:
            now = await self.stream.server_identity()
        except ServiceUnavailable:
            return
        before, self.identity = self.identity, now or self.identity
        if before and now and now[0] == before[0] and now[1] != before[1]:
            raise HistoryLost

    async def _dispatch(self) -> None:
        while True:
            batch = [await self._incoming.get()]
            while len(batch) < self.batch_events and not self._incoming.empty():
                batch.append(self._incoming.get_nowait())
            changes = [c for raw in batch if (c := self.hub.scope_change(raw)) is not None]
            try:
                await self.hub.fan_out(changes)
            except Exception:  # a bug must not stop the feed of every other subscriber
                log.exception("live fan-out failed")

    async def catch_up(self, subscription: Subscription, token: Mapping[str, Any]) -> AsyncIterator[Delivery]:
        """The changes after ``token`` from a stream of the subscriber's own, until they meet
        what the shared stream has queued for it since it subscribed (or none are left)."""
        cursor = await self.stream.open(token)
        ready: list[Delivery] = []
        try:
            while True:
                raws: list[Mapping[str, Any]] = []
                while len(raws) < self.batch_events:
                    raw = await cursor.try_next()
                    if raw is None:
                        break
                    raws.append(raw)
                met = _meets_backlog(subscription, raws)
                changes = [c for raw in raws[:met] if (c := self.hub.scope_change(raw)) is not None]
                changes = [c for c in changes if c.domain_id == subscription.domain_id]
                ready.clear()
                await deliver(
                    subscription.repository,
                    changes,
                    [subscription],
                    offer=lambda _, delivery: ready.append(delivery),
                )
                for delivery in ready:
                    yield delivery
                subscription.skip.update(k for raw in raws[:met] if (k := _key(raw)) is not None)
                if met < len(raws) or not raws:
                    return
        finally:
            with suppress(Exception):
                await cursor.close()

    # polling --------------------------------------------------------------------------------

    def _use_polling(self) -> None:
        self.hub.stats.mode = "polling"
        self.hub.catch_up_source = None
        self.hub.on_domain_watched = self._watch_domain
        for domain in self.hub.domains():
            self._watch_domain(domain)
        self.ready.set()

    def _watch_domain(self, domain: str) -> None:
        task = self._pollers.get(domain)
        if task is None or task.done():
            self._pollers[domain] = asyncio.create_task(self._poll(domain))

    async def _poll(self, domain: str) -> None:
        """One domain's poller: every ``poll_seconds``, the jobs updated since the last look
        (one ``find``), while the domain has subscribers."""
        position: tuple[Any, ObjectId] | None = None
        started = False
        while self.hub.watching(domain):
            repository = self.hub.repository_of(domain)
            if repository is None:
                break
            try:
                if not started:
                    position, started = await repository.latest_update(), True
                    continue
                documents = await repository.updated_since(position, self.batch_events)
            except ServiceUnavailable:
                await asyncio.sleep(self.poll_seconds)
                continue
            except Exception:
                log.exception("polling domain %s failed", domain)
                await asyncio.sleep(self.poll_seconds)
                continue
            if not documents:
                await asyncio.sleep(self.poll_seconds)
                continue
            changes = [_polled(document, position) for document in documents]
            position = changes[-1].position
            for document in documents:
                self.hub.remember(document)
            await self.hub.fan_out(changes)
            if len(documents) < self.batch_events:
                await asyncio.sleep(self.poll_seconds)
        self._pollers.pop(domain, None)


def _polled(document: dict[str, Any], since: tuple[Any, ObjectId] | None) -> Change:
    """A polled job as a change: CREATED when it was created after the previous look."""
    created, last = document.get("created_at"), since[0] if since else None
    new = isinstance(created, datetime) and isinstance(last, datetime) and created > last
    return Change(
        ChangeKind.CREATED if new else ChangeKind.UPDATED,
        str(document["domain_id"]),
        document["_id"],
        str(document.get("job_id") or ""),
        document,
        position=(document.get("updated_at"), document["_id"]),
    )


def _key(raw: Mapping[str, Any]) -> str | None:
    token = raw.get("_id")
    return token_key(token) if isinstance(token, Mapping) else None


def _meets_backlog(subscription: Subscription, raws: list[Mapping[str, Any]]) -> int:
    """How many of ``raws`` come before the first change the shared stream has queued."""
    queued = {d.change.key for d in subscription.backlog or ()}
    for index, raw in enumerate(raws):
        if _key(raw) in queued:
            return index
    return len(raws)
