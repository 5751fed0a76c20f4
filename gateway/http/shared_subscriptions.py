"""One execution per group of identical WebSocket subscriptions.

Subscribers whose answers cannot differ form a group: the same domain of the caller
(``principal.domain_id``; nothing else of the principal is read by a subscription — its token's
expiry is kept per member), the same query text, ``operationName`` and variables. Per event the
group's selection is executed ONCE (by Strawberry, as for a single subscriber) and its payload
JSON-encoded ONCE; each member is sent that payload spliced into its own frame prefix
(``{"id":…,"type":"next","payload":`` or the legacy ``data`` message), never re-encoded.

Each member keeps what is its own: it is counted against the per-connection and per-process
subscription limits (RATE_LIMITED), has its own bounded buffer (SLOW_CONSUMER ends only that
member), its own end at its token's expiry (UNAUTHENTICATED) and its own ``complete``/``stop``.
The group ends when its last member leaves; what ends the group's stream (RESYNC_REQUIRED, the
drain on SIGTERM, a failure) ends every member's, as it would each single subscription.

Shared: ``jobsChanged`` without ``after``. A member joining a running group receives the events
from its joining on; for a filtered group, the DELETED of a job the group delivered before the
member joined is not sent to it (it never saw the job). Not shared, executed per subscriber as
before: ``jobsChanged(after: …)`` (its catch-up is its own), ``jobUpdated`` (each subscriber
starts with the job's current state read at its subscription), anything else (queries over the
socket, several root fields, a document Strawberry refuses — the group then hands its first
members back to the single path, which answers with the protocol's own error).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from bson import ObjectId
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    parse,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from gateway.auth import Principal
from gateway.context import GatewayContext
from gateway.encoding import json_bytes
from gateway.errors import GatewayError, Unauthenticated
from gateway.live.hub import ChangeKind, ConnectionSubscriptions, LiveHub
from schema.extensions.errors import classify, finalize_errors

log = logging.getLogger("gateway.live")

SHARED_FIELDS = frozenset({"jobsChanged"})

SendText = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Shareable:
    """A subscription that may share its execution: its group key and its root field."""

    key: tuple[Any, ...]
    field: FieldNode
    filtered: bool

    @property
    def response_key(self) -> str:
        return self.field.alias.value if self.field.alias else self.field.name.value


@lru_cache(maxsize=512)
def _document(query: str) -> DocumentNode | None:
    try:
        return parse(query)
    except GraphQLError:
        return None


def shareable(
    context: GatewayContext, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> Shareable | None:
    """The group of this subscription, or None when it is executed on its own."""
    if context.auth_error is not None or context.live is None:
        return None
    document = _document(query)
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
        return None
    selections = operations[0].selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    field = selections[0]
    if field.name.value not in SHARED_FIELDS or field.directives:
        return None
    values = variables or {}
    filtered = False
    for argument in field.arguments or ():
        value = argument.value
        given = (
            values.get(value.name.value) is not None
            if isinstance(value, VariableNode)
            else not isinstance(value, NullValueNode)
        )
        if argument.name.value == "after" and given:
            return None  # resuming: the catch-up from the cursor is this subscriber's own
        filtered = filtered or (argument.name.value == "filter" and given)
    try:
        canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    key = (context.principal.domain_id, query, operation_name, canonical)
    return Shareable(key, field, filtered)


def error_payload(share: Shareable, error: Exception, request_id: str | None) -> str:
    """The ``payload`` a subscriber gets when ``error`` ends its stream (as if its resolver had
    raised it)."""
    message = str(getattr(error, "message", error))
    graphql_error = GraphQLError(message, nodes=share.field, path=[share.response_key], original_error=error)
    [final] = finalize_errors([classify(graphql_error, request_id)], request_id, hide_schema=True)
    return json_bytes({"data": None, "errors": [final.formatted]}).decode()


class _End:
    """The last item of a member's queue: the payload of its last ``next`` (None: none)."""

    __slots__ = ("payload",)

    def __init__(self, payload: str | None) -> None:
        self.payload = payload


_FALLBACK = object()
"""The group could not run the document: the member runs on its own."""


class Member:
    """One subscriber of a group: its frame prefix, bounded queue and subscription count."""

    def __init__(self, group: Group, prefix: str, connection: ConnectionSubscriptions, request_id: str | None):
        self.group = group
        self.prefix = prefix
        self.connection = connection
        self.request_id = request_id
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.ended = False
        self.admitted = False
        self.unseen: set[ObjectId] = set(group.delivered) if group.share.filtered else set()

    def admit(self) -> None:
        """Count the member (RATE_LIMITED past a limit ends it before any event)."""
        if self.ended:
            return
        try:
            self.group.registry.hub.admit(self.connection)
        except GatewayError as refusal:
            self.end(refusal)
            return
        self.admitted = True

    def offer(self, payload: str, change: Any) -> None:
        if self.ended:
            return
        if self.group.share.filtered and change is not None:
            if change.kind is ChangeKind.DELETED:
                if change.object_id in self.unseen:
                    self.unseen.discard(change.object_id)
                    return  # delivered to the group before this member joined
            elif self.unseen:
                self.unseen.discard(change.object_id)
        hub = self.group.registry.hub
        if self.queue.qsize() >= hub.buffer:
            self.end(hub.slow_consumer())
            return
        self.queue.put_nowait(self.prefix + payload + "}")

    def end(self, error: GatewayError | None) -> None:
        """End after what is queued, with ``error`` as the last event (None: completed)."""
        if self.ended:
            return
        payload = error_payload(self.group.share, error, self.request_id) if error else None
        self.finish(_End(payload))

    def finish(self, last: _End | object) -> None:
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(last)
            self.group.leave(self)

    async def serve(self, send_text: SendText, expires_at: float | None) -> bool:
        """Send the member's frames until its stream ends (True) or it must run on its own
        (False)."""
        stats = self.group.registry.hub.stats
        expiry = None
        if expires_at is not None:
            expiry = asyncio.get_running_loop().call_later(
                max(0.0, expires_at - time.time()), self.end, Unauthenticated("the token has expired")
            )
        try:
            while True:
                item = await self.queue.get()
                if isinstance(item, str):
                    await send_text(item)
                    stats.delivered += 1
                elif item is _FALLBACK:
                    return False
                else:
                    assert isinstance(item, _End)
                    if item.payload is not None:
                        await send_text(self.prefix + item.payload + "}")
                    return True
        finally:
            if expiry is not None:
                expiry.cancel()
            self.ended = True
            self.group.leave(self)


class Group:
    """The subscribers of one key and the single execution that feeds them."""

    def __init__(
        self,
        registry: SharedSubscriptions,
        share: Shareable,
        context: GatewayContext,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> None:
        self.registry = registry
        self.share = share
        self.members: set[Member] = set()
        self.delivered: set[ObjectId] = set()
        self.subscribed = False
        self.joining: list[Member] = []
        """Members waiting for the execution to subscribe to the hub, in the order they came."""
        self.context = replace(
            context,
            principal=Principal(domain_id=context.principal.domain_id),  # no expiry: members' own
            spent={},
            live_change=None,
            _subscriptions=ConnectionSubscriptions(0, shared=True, on_subscribed=self._subscribed),
            _scopes={},
        )
        self.task = asyncio.create_task(self._run(query, variables, operation_name))

    def _subscribed(self) -> None:
        self.subscribed = True
        joining, self.joining = self.joining, []
        for member in joining:
            member.admit()

    def join(self, member: Member) -> None:
        self.members.add(member)
        if self.subscribed:
            member.admit()
        else:
            self.joining.append(member)

    def leave(self, member: Member) -> None:
        if member in self.members:
            self.members.discard(member)
            if member.admitted:
                self.registry.hub.release(member.connection)
            if not self.members:
                self.registry.discard(self)
                self.task.cancel()

    async def _run(self, query: str, variables: dict[str, Any] | None, operation_name: str | None) -> None:
        last: _End | object = _End(None)
        try:
            results = await self.registry.schema.stream(
                query,
                variable_values=variables,
                context_value=self.context,
                root_value=None,
                operation_name=operation_name,
            )
            async with aclosing(results):
                first = True
                async for result in results:
                    refused = isinstance(result, PreExecutionError) or not isinstance(result, ExecutionResult)
                    if first and refused:
                        last = _FALLBACK
                        return
                    first = False
                    self._publish(result)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a shared subscription failed")
            failure = RuntimeError("shared execution failed")
            last = _End(error_payload(self.share, failure, self.context.request_id))
        finally:
            self.registry.discard(self)
            for member in list(self.members):
                member.finish(last)

    def _publish(self, result: ExecutionResult) -> None:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
            self.registry.discard(self)  # a stream with errors takes no new members
        if result.extensions:
            payload["extensions"] = result.extensions
        encoded = json_bytes(payload).decode()
        change, self.context.live_change = self.context.live_change, None
        if self.share.filtered and change is not None:
            if change.kind is ChangeKind.DELETED:
                self.delivered.discard(change.object_id)
            else:
                self.delivered.add(change.object_id)
        for member in list(self.members):
            member.offer(encoded, change)


class SharedSubscriptions:
    """The process's groups, by key."""

    def __init__(self, schema: Any, hub: LiveHub) -> None:
        self.schema = schema
        self.hub = hub
        self.groups: dict[tuple[Any, ...], Group] = {}

    def discard(self, group: Group) -> None:
        if self.groups.get(group.share.key) is group:
            del self.groups[group.share.key]

    async def serve(
        self,
        share: Shareable,
        context: GatewayContext,
        prefix: str,
        send_text: SendText,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> bool:
        """Run one subscriber in its group (created if need be) until its stream ends: True;
        False when it must run on its own instead.

        The member is counted (and held to the limits) once the group's execution has
        subscribed to the hub, as a single subscription is counted once its resolver has."""
        _, connection = context.live_hub()
        group = self.groups.get(share.key)
        if group is None:
            group = self.groups[share.key] = Group(self, share, context, query, variables, operation_name)
        member = Member(group, prefix, connection, context.request_id)
        group.join(member)
        return await member.serve(send_text, context.principal.expires_at)
