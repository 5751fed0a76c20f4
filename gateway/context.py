"""The per-request GraphQL context: the caller, and one repository + loaders per domain read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.auth import Principal
from gateway.dataloaders import BatchObserver, Loaders, build_loaders
from gateway.errors import GatewayError, QueryTooComplex, ServiceUnavailable
from gateway.live.hub import ConnectionSubscriptions, LiveHub
from gateway.mongo.query import QueryLimits
from gateway.mongo.repository import AggregationLimits, JobRepository
from gateway.settings import Settings


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
    spent: dict[str, int] = field(default_factory=dict)  # request cost so far (batches share it)
    live: LiveHub | None = None
    connection_params: Any = None  # the WebSocket connection_init payload (Strawberry sets it)
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
        total per request is held to ``GATEWAY_MAX_REQUESTED_ITEMS`` (aliases add up)."""
        total = self.spend("returned_rows", rows)
        if total > self.settings.max_requested_items:
            raise QueryTooComplex(
                f"the request's statistics rows and timeline buckets add up to {total}, more "
                f"than the limit of {self.settings.max_requested_items} items "
                "(GATEWAY_MAX_REQUESTED_ITEMS)"
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
                self.database,
                domain,
                max_time_ms=self.settings.max_time_ms,
                limits=query_limits(self.settings),
                aggregation=aggregation_limits(self.settings),
            )
            self._scopes[domain] = Scope(repository, build_loaders(repository, self.on_batch))
        return self._scopes[domain]


def query_limits(settings: Settings) -> QueryLimits:
    return QueryLimits(
        max_conditions=settings.max_filter_conditions,
        max_depth=settings.max_filter_depth,
        max_regex_length=settings.max_regex_length,
        max_list_values=settings.max_list_values,
    )


def aggregation_limits(settings: Settings) -> AggregationLimits:
    return AggregationLimits(
        max_rows=settings.stats_max_rows,
        max_stages=settings.stats_max_stages,
        allow_disk_use=settings.aggregate_allow_disk_use,
        max_timeline_buckets=settings.timeline_max_buckets,
    )
