"""Assemble the Strawberry schema from the query types, scalars and extensions."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult

from gateway.settings import Settings
from schema.execution.input_conversion import install_input_plans
from schema.extensions.document_bounds import document_refusals
from schema.extensions.document_cache import validation_cache
from schema.extensions.errors import ErrorCodes, classify, finalize_errors, tag_parse_errors
from schema.extensions.limits import limit_extensions
from schema.extensions.operation import SingleOperation
from schema.extensions.tracing import tracing_extensions
from schema.fields.connection import ConnectionQueries
from schema.fields.dashboards import DashboardQueries
from schema.fields.listing import ListingQueries
from schema.fields.nodes import NodeQueries
from schema.fields.stats import StatisticsQueries
from schema.fields.subscriptions import Subscription
from schema.types.scalars import SCALAR_MAP


@strawberry.type(description="Read-only access to SpaceONE power-scheduler jobs.")
class Query(ListingQueries, ConnectionQueries, StatisticsQueries, DashboardQueries, NodeQueries):
    """Each feature contributes its root fields as a base class."""


class GatewaySchema(strawberry.Schema):
    prefetch_nested = True
    """Listing resolvers load ``errors``/``controllerInfo`` for the whole page (schema/prefetch.py)."""

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute(*args, **kwargs)
        tag_parse_errors(result.errors)  # the parser cache raises before any parse hook can tag
        return result

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Client errors are not logged; ``ErrorCodes`` logs unexpected ones with a request id."""

    hide_schema = False
    """Introspection is off: error messages do not suggest field names."""

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """Subscriptions (WebSocket, SSE): every event's errors get their codes and unexpected
        ones are masked, exactly as the HTTP endpoint does for queries."""
        results = await super().stream(*args, **kwargs)
        context = kwargs.get("context_value")
        return self._finalized(results, getattr(context, "request_id", None))

    async def _finalized(self, results: Any, request_id: str | None) -> AsyncGenerator[Any, None]:
        try:
            async for result in results:
                errors = getattr(result, "errors", None)
                if errors:
                    tag_parse_errors(errors)
                    result.errors = finalize_errors(
                        [
                            classify(e, request_id) if e.path and "code" not in (e.extensions or {}) else e
                            for e in errors
                        ],
                        request_id,
                        hide_schema=self.hide_schema,
                    )
                yield result
        finally:
            await results.aclose()


def build_schema(settings: Settings | None = None, *, prefetch_nested: bool = True) -> strawberry.Schema:
    """The gateway schema; ``prefetch_nested=False`` leaves ``errors``/``controllerInfo`` to
    their loaders job by job (the differential tests compare both)."""
    settings = settings or Settings()
    schema = GatewaySchema(
        query=Query,
        subscription=Subscription,
        extensions=[
            lambda: ParserCache(maxsize=512),
            validation_cache(maxsize=512, precheck=lambda document: document_refusals(document, settings)),
            ErrorCodes,
            *limit_extensions(settings),  # request cost limits and introspection switch
            SingleOperation,
            *tracing_extensions(),
        ],
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    )
    schema.prefetch_nested = prefetch_nested
    schema.hide_schema = not settings.introspection
    install_input_plans(schema)
    return schema
