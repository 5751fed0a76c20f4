"""The per-request context of both front doors (GraphQL and the SpaceONE REST routes): the caller,
and one repository + loaders per domain read. :class:`ContextFactory` builds it, once per request."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from gateway.auth import ANONYMOUS, Authenticator, Principal
from gateway.dataloaders import BatchObserver, Loaders, build_loaders
from gateway.errors import GatewayError, QueryTooComplex, ServiceUnavailable, Unauthenticated
from gateway.live.hub import ConnectionSubscriptions, LiveHub
from gateway.mongo.bulkhead import Bulkhead, Deadline
from gateway.mongo.query import QueryLimits
from gateway.mongo.repository import AggregationLimits, Collections, JobRepository
from gateway.observability.requests import current_request, request_id_from
from gateway.settings import Settings

log = logging.getLogger("gateway")


@dataclass(slots=True)
class Scope:
    """What a resolver needs to read one domain: its repository and its loaders."""

    repository: JobRepository
    loaders: Loaders


@dataclass(slots=True)
class GatewayContext:
    settings: Settings
    database: Any
    principal: Principal
    request: Any = None
    response: Any = None
    request_id: str | None = None
    on_batch: BatchObserver | None = None
    auth_error: GatewayError | None = None  # a refused token: the operation is not executed
    bulkhead: Bulkhead | None = None  # the process's per-domain bound on concurrent commands
    deadline: Deadline | None = None  # when the request must be answered by
    spent: dict[str, int] = field(default_factory=dict)  # request cost so far (batches share it)
    live: LiveHub | None = None
    connection_params: Any = None  # the WebSocket connection_init payload (Strawberry sets it)
    live_change: Any = None  # the change behind the live event being executed (shared executions)
    collections: Collections | None = None  # the database's collections, looked up once
    _subscriptions: ConnectionSubscriptions | None = None
    _scopes: dict[str, Scope] = field(default_factory=dict)

    def check_authenticated(self) -> None:
        """Raise the refusal of the request's token, if it was refused (UNAUTHENTICATED, 401)."""
        if self.auth_error is not None:
            raise self.auth_error

    def spend(self, what: str, amount: int) -> int:
        """Add to the request's running total of ``what`` (batches share it); the new total."""
        total = self.spent[what] = self.spent.get(what, 0) + amount
        return total

    def count_returned_rows(self, rows: int) -> None:
        """Statistics rows and timeline buckets are known only once computed: their running
        total per request (a row or bucket costs 1) is held to ``GATEWAY_MAX_COST`` (aliases
        add up)."""
        total = self.spend("returned_rows", rows)
        if total > self.settings.max_cost:
            raise QueryTooComplex(
                f"the request's statistics rows and timeline buckets add up to {total}, more "
                f"than the cost limit of {self.settings.max_cost} (GATEWAY_MAX_COST)"
            )

    def live_hub(self) -> tuple[LiveHub, ConnectionSubscriptions]:
        """The process's live hub and this connection's subscription count (limits)."""
        if self.live is None:
            raise ServiceUnavailable("live updates are not available on this endpoint")
        if self._subscriptions is None:
            self._subscriptions = ConnectionSubscriptions(self.settings.max_subscriptions_per_connection)
        return self.live, self._subscriptions

    def scope(self, requested_domain: str | None) -> Scope:
        """The scope for the caller's domain (refuses a domain the caller may not read)."""
        domain = self.principal.domain_for(requested_domain)
        if domain not in self._scopes:
            repository = JobRepository(
                self.collections or self.database,
                domain,
                max_time_ms=self.settings.max_time_ms,
                limits=QueryLimits.from_settings(self.settings),
                aggregation=AggregationLimits.from_settings(self.settings),
                bulkhead=self.bulkhead,
                deadline=self.deadline,
            )
            self._scopes[domain] = Scope(repository, build_loaders(repository, self.on_batch))
        return self._scopes[domain]


class ContextFactory:
    """Builds the :class:`GatewayContext` of one request, for the GraphQL endpoint and the REST
    routes alike: the caller (a refused token is kept on the context, and the operation or REST
    call is then answered with UNAUTHENTICATED before anything runs), the request id, the
    loaders' batch observer, the process's per-domain bulkhead and the request's deadline."""

    def __init__(
        self,
        settings: Settings,
        database: Any,
        authenticator: Authenticator,
        on_batch: BatchObserver | None = None,
        bulkhead: Bulkhead | None = None,
        live: LiveHub | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.authenticator = authenticator
        self.on_batch = on_batch
        self.bulkhead = bulkhead
        self.live = live
        self.collections = Collections.of(database)

    def principal_for(self, authorization: str | None) -> Principal:
        """The caller named by an ``Authorization`` value, for every front door and transport;
        raises the refusal (a :class:`GatewayError`), never anything else."""
        try:
            return self.authenticator.principal_for(authorization)
        except GatewayError:
            raise
        except Exception:  # a bug in token handling must not become a bare 500
            log.exception("unexpected error while reading the token")
            raise Unauthenticated("the token could not be verified") from None

    async def for_request(self, request: Any, response: Any = None) -> GatewayContext:
        principal, refusal = ANONYMOUS, None
        try:
            principal = self.principal_for(request.headers.get("authorization"))
        except GatewayError as error:
            refusal = error
        stats = current_request.get()
        return GatewayContext(
            settings=self.settings,
            database=self.database,
            principal=principal,
            auth_error=refusal,
            request=request,
            response=response,
            request_id=stats.request_id if stats else request_id_from(request.headers.get("x-request-id")),
            on_batch=self.on_batch,
            bulkhead=self.bulkhead,
            deadline=getattr(request.state, "deadline", None),
            live=self.live,
            collections=self.collections,
        )
