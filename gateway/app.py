"""``create_app(settings)``: the Starlette application with every route of the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from gateway.auth import build_authenticator, insecure_mode_warning
from gateway.context import ContextFactory
from gateway.http.body_limit import BodySizeLimit
from gateway.http.endpoint import GatewayGraphQL
from gateway.http.graphiql import VENDOR_ROUTE, VendorFiles
from gateway.http.persisted import PersistedQueries, load_allow_list
from gateway.live.feed import ChangeFeed
from gateway.live.hub import LiveHub
from gateway.mongo.bulkhead import Bulkhead
from gateway.mongo.client import MongoHandle, open_mongo
from gateway.mongo.repository import JobChangeStream
from gateway.observability.metrics import GatewayMetrics, watch_event_loop
from gateway.observability.requests import RequestObserver
from gateway.settings import Settings
from gateway.spaceone.routes import http_error, rest_routes
from schema import build_schema
from schema.compiled.runner import CompiledOperations
from schema.internals import graphql_core_schema

log = logging.getLogger("gateway")

EXAMPLE_QUERY = (
    '{ jobs(domainId: "%s", status: ERROR, query: {page: {limit: 5}}) '
    "{ totalCount results { jobId status createdAt errors { errorCode } } } }"
)

EXAMPLE_SUBSCRIPTION = (
    'subscription { jobsChanged(domainId: "%s", filter: {status: {eq: IN_PROGRESS}}) '
    "{ kind jobId job { status remainedTasks } } }"
)


def create_app(settings: Settings | None = None, mongo: MongoHandle | None = None) -> Starlette:
    settings = settings or Settings()
    authenticator = build_authenticator(settings)  # unusable keys fail here, at start
    if warning := insecure_mode_warning(settings):
        log.warning(warning)
    metrics = GatewayMetrics()
    handle = mongo or open_database(settings, metrics)
    persisted = PersistedQueries(
        settings.persisted_queries_cache_size,
        load_allow_list(settings.persisted_only) if settings.persisted_only else None,
    )
    bulkhead = Bulkhead(
        settings.max_concurrent_commands_per_domain,
        settings.max_concurrent_commands_wait_seconds,
        on_wait=metrics.observe_command_slot_wait,
    )
    live = LiveHub(max_subscriptions=settings.max_subscriptions, buffer=settings.live_buffer_events)
    feed = ChangeFeed(
        live,
        JobChangeStream(handle.database),
        poll_seconds=settings.live_poll_seconds,
        batch_events=settings.live_batch_events,
        force_polling=handle.embedded,  # the embedded database has no change streams
    )
    contexts = ContextFactory(
        settings,
        handle.database,
        authenticator,
        on_batch=metrics.observe_batch,
        bulkhead=bulkhead,
        live=live,
    )
    schema = build_schema(settings)
    compiled = (
        CompiledOperations(graphql_core_schema(schema), settings, metrics.observe_compiled)
        if settings.compiled_execution
        else None
    )
    graphql = GatewayGraphQL(
        schema, settings=settings, contexts=contexts, persisted=persisted, metrics=metrics, compiled=compiled
    )

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        if await handle.ping():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable", "reason": "MongoDB does not answer"}, 503)

    async def metrics_endpoint(_: Request) -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        _announce(settings, handle)
        lag_watch = asyncio.create_task(watch_event_loop(metrics), name="event-loop-lag")
        await feed.start()
        simulator = _start_simulator(settings, handle)
        try:
            yield
        finally:
            live.drain()
            if simulator is not None:
                simulator.cancel()
            await feed.stop()
            lag_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag_watch
            await handle.close()

    routes: list[BaseRoute] = [
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        *rest_routes(contexts),
    ]
    if settings.graphiql:
        routes.append(Mount(VENDOR_ROUTE, VendorFiles(), name="vendor"))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestObserver, on_response=metrics.observe_http),
            *security_middleware(settings),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.authenticator = authenticator
    app.state.contexts = contexts  # builds the request context of both front doors
    app.state.mongo = handle
    app.state.metrics = metrics
    app.state.bulkhead = bulkhead  # the per-domain bound on concurrent MongoDB commands
    app.state.live = live
    metrics.watch_live(live.stats, lambda: live.subscription_count)
    return app


def open_database(settings: Settings, metrics: GatewayMetrics) -> MongoHandle:
    """The embedded demo database when the settings ask for it (they refuse an unasked-for one),
    else the MongoDB at ``GATEWAY_MONGODB_URI``."""
    if settings.uses_demo_database:
        from gateway.demo import open_demo_database  # noqa: PLC0415 - mongomock: demo mode only

        return open_demo_database(settings)
    return open_mongo(settings, listeners=[metrics.command_listener])


def _start_simulator(settings: Settings, handle: MongoHandle) -> asyncio.Task[None] | None:
    """In demo mode, the task that advances the demo jobs (so subscriptions show something)."""
    if not (handle.embedded and settings.demo_live):
        return None
    from gateway.demo import simulate  # noqa: PLC0415 - demo mode only

    return asyncio.create_task(simulate(handle.database, settings.demo_seed), name="demo-simulator")


def security_middleware(settings: Settings) -> list[Middleware]:
    """Request body limit, and CORS for the explicitly listed origins only (none by default)."""
    middleware = [Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)]
    if settings.cors_origin_list:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origin_list,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
                expose_headers=["X-Request-Id"],
                max_age=600,
            ),
        )
    return middleware


def _announce(settings: Settings, handle: MongoHandle) -> None:
    url = f"http://{settings.host}:{settings.port}/graphql"
    if handle.embedded:
        from gateway.demo import DEMO_DOMAINS  # noqa: PLC0415 - demo mode only

        log.info("serving the embedded demo database (%d jobs)", settings.demo_jobs)
        log.info("GraphiQL: %s", url)
        log.info("try: %s", EXAMPLE_QUERY % DEMO_DOMAINS[0])
        if settings.demo_live:
            log.info(
                "live (WebSocket, or SSE with Accept: text/event-stream): %s",
                EXAMPLE_SUBSCRIPTION % DEMO_DOMAINS[0],
            )
    else:
        log.info(
            "serving database %r through %s; GraphiQL: %s",
            settings.mongodb_database,
            settings.mongodb_driver,
            url,
        )
        if settings.uses_development_cursor_secret:
            log.warning(
                "GATEWAY_CURSOR_SECRET is unset: connection cursors are signed with the public "
                "development key; set the same secret on every instance"
            )


def app_from_environment() -> Starlette:
    """Factory for ``uvicorn --factory gateway.app:app_from_environment``."""
    return create_app(Settings())
