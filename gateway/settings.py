"""Runtime configuration, read from ``GATEWAY_*`` environment variables.

Settings are built once at start and injected (``create_app(settings)``); nothing reads the
environment later. Values that cannot work are refused at start, not at the first request.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_CURSOR_SECRET = "jobs-gateway-development-cursor-secret"
"""The default cursor key: fine for development, public knowledge, warned about in production."""


HS256_PREFIX = "hs256:"
HS256_MIN_SECRET_LENGTH = 32


def hs256_secret(keys: str, *, allowed: bool) -> str | None:
    """The development secret of ``GATEWAY_JWT_KEYS=hs256:<secret>`` (None for other keys); the
    one place of its rules: only with ``GATEWAY_JWT_ALLOW_HS256``, at least 32 characters."""
    if not keys.startswith(HS256_PREFIX):
        return None
    if not allowed:
        raise ValueError(
            "GATEWAY_JWT_KEYS=hs256:<secret> is for development only; "
            "set GATEWAY_JWT_ALLOW_HS256=true to use it"
        )
    secret = keys.removeprefix(HS256_PREFIX)
    if len(secret) < HS256_MIN_SECRET_LENGTH:
        raise ValueError(f"the hs256 secret must be at least {HS256_MIN_SECRET_LENGTH} characters long")
    return secret


MongoDriver = Literal["motor", "pymongo"]
"""The asynchronous MongoDB drivers the gateway can serve through."""


class Settings(BaseSettings):
    """Every knob of the gateway; docs/configuration.md is generated from these descriptions."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    mongodb_uri: str | None = Field(
        default=None,
        description="MongoDB connection URI of the power-scheduler database; unset: the embedded demo database "
        "(on loopback, or with GATEWAY_DEMO=true)",
    )
    demo: bool | None = Field(
        default=None,
        description="serve the embedded demo database: unset, only without GATEWAY_MONGODB_URI on a "
        "loopback host; true, on any host (never with a URI); false, never",
    )
    mongodb_driver: MongoDriver = Field(
        default="motor",
        description="the asynchronous driver: `motor` (Motor), or `pymongo` (PyMongo's own `AsyncMongoClient`)",
    )
    mongodb_database: str = Field(
        default="power-scheduler", description="database that holds the `job` and `controller` collections"
    )
    mongodb_server_selection_timeout_ms: int = Field(
        default=3000,
        ge=100,
        le=60_000,
        description="milliseconds a command waits for an unreachable MongoDB before SERVICE_UNAVAILABLE",
    )
    mongodb_max_pool_size: int = Field(
        default=20, ge=1, le=500, description="MongoDB connections per worker process"
    )
    max_time_ms: int = Field(
        default=10_000, ge=1, description="server-side `maxTimeMS` of every MongoDB command; past it: TIMEOUT"
    )
    request_timeout_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="bound on a whole request, queueing and every command included; past it the "
        "request is answered with TIMEOUT and its MongoDB work is cancelled (0: no bound)",
    )
    max_concurrent_commands_per_domain: int = Field(
        default=8,
        ge=0,
        le=10_000,
        description="MongoDB commands one domain may have running at once in this process, so "
        "one tenant cannot take every pooled connection (0: no bound)",
    )
    max_concurrent_commands_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="how long a command waits for a free slot of its domain before the request "
        "is refused with RATE_LIMITED and Retry-After",
    )

    host: str = Field(default="127.0.0.1", description="address to listen on (`--host` overrides it)")
    port: int = Field(default=8000, ge=0, le=65535, description="port to listen on (`--port` overrides it)")
    workers: int = Field(
        default=1, ge=1, le=64, description="uvicorn worker processes (`--workers` overrides it)"
    )

    auth: Literal["none", "jwt"] = Field(
        default="none",
        description="`none`: the `domainId` argument names the domain; `jwt`: the bearer token's `did` claim",
    )
    jwt_keys: str | None = Field(
        default=None,
        description="keys that verify tokens: a JWKS or JWK file, a PEM public key, or `hs256:<secret>`",
    )

    default_page_size: int = Field(default=100, ge=1, description="rows of a page that names no limit")
    max_page_size: int = Field(default=1000, ge=1, description="largest page a client may ask for")
    max_filter_conditions: int = Field(default=50, ge=1, description="conditions in one filter")
    max_filter_depth: int = Field(
        default=8, ge=1, description="deepest and/or/not nesting of a compiled filter"
    )
    max_list_values: int = Field(
        default=1000, ge=1, description="values of one list operator, or fields of one `match` object"
    )
    max_regex_length: int = Field(
        default=256, ge=1, description="characters of one regular expression, given or generated"
    )

    stats_max_rows: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="rows one jobStats (or REST stat) may return; more: QUERY_TOO_COMPLEX",
    )
    stats_max_stages: int = Field(
        default=20, ge=1, le=200, description="stages in one `aggregate`; more: QUERY_TOO_COMPLEX"
    )
    aggregate_allow_disk_use: bool = Field(
        default=False, description="`allowDiskUse` of every aggregation pipeline"
    )
    timeline_max_buckets: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="buckets one jobTimeline may return; more: QUERY_TOO_COMPLEX, before any query",
    )

    cursor_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_CURSOR_SECRET),
        min_length=16,
        description="key that signs jobsConnection cursors; the same on every instance; "
        "unset: a public development key, warned about at start",
    )

    graphiql: bool = Field(
        default=True, description="serve the GraphiQL page and its files; `false`: 404 for a browser"
    )
    introspection: bool = Field(
        default=True,
        description='answer `__schema`/`__type`; `false` also drops "Did you mean" suggestions from errors',
    )

    # security: authentication, request cost limits, CORS --------------------------------------
    jwt_allow_hs256: bool = Field(default=False, description="accept `hs256:<secret>` keys (development only)")
    jwt_leeway_seconds: int = Field(
        default=30, ge=0, le=600, description="seconds of clock skew allowed when checking `exp` and `nbf`"
    )
    jwt_issuer: str | None = Field(default=None, description="when set, tokens must carry this `iss`")
    jwt_audience: str | None = Field(default=None, description="when set, tokens must carry this `aud`")
    max_query_depth: int = Field(
        default=15,
        ge=2,
        le=100,
        description="selection depth, introspection fields counted (GraphiQL's introspection: 14)",
    )
    max_query_tokens: int = Field(
        default=1000, ge=50, le=100_000, description="tokens in a document (the parser stops there)"
    )
    max_aliases: int = Field(default=15, ge=0, le=1000, description="aliases in a document, fragments expanded")
    max_root_fields: int = Field(
        default=8, ge=1, le=1000, description="root fields of an operation, fragments expanded"
    )
    max_expanded_fields: int = Field(
        default=1000,
        ge=10,
        le=1_000_000,
        description="fields of an operation with every fragment spread expanded, measured before "
        "validation (GraphiQL's introspection: 230)",
    )
    max_field_pairs: int = Field(
        default=600,
        ge=0,
        le=1_000_000,
        description="pairs of fields sharing a response name (a field repeated k times: k(k-1)/2; a "
        "pair of leaf fields counts 1/8) and of fragments spread in one merged selection set, each "
        "compared by validation",
    )
    max_cost: int = Field(
        default=10_000,
        ge=1,
        description="estimated cost an operation may have by the schema's @cost/@listSize "
        "directives (a batch's operations add up); statistics rows and timeline buckets, known "
        "once computed, are held to it too",
    )
    max_input_depth: int = Field(
        default=16, ge=2, le=100, description="nesting of argument literals and variable values"
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="bytes of a request body; larger: HTTP 413"
    )
    cors_origins: str = Field(
        default="",
        description="comma-separated origins a browser may call from; empty: none; `*` is refused",
    )

    demo_jobs: int = Field(
        default=3000, ge=0, le=100_000, description="jobs generated in the embedded demo database"
    )
    demo_seed: int = Field(
        default=2020, description="seed of the demo data: the same seed gives the same jobs and ids"
    )
    # live updates (subscriptions) -----------------------------------------------------------
    live_poll_seconds: float = Field(
        default=2.0,
        ge=0.1,
        le=300,
        description="poll interval per domain with subscribers when MongoDB has no change streams",
    )
    max_subscriptions_per_connection: int = Field(
        default=20, ge=1, le=10_000, description="subscriptions one WebSocket or SSE connection may hold"
    )
    max_subscriptions: int = Field(
        default=10_000, ge=1, le=1_000_000, description="subscriptions one process may hold"
    )
    live_buffer_events: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="events buffered per subscriber; past it the stream ends with SLOW_CONSUMER",
    )
    live_batch_events: int = Field(
        default=500, ge=1, le=10_000, description="changes matched together in one batch"
    )
    ws_connection_init_timeout: float = Field(
        default=10.0, ge=0.1, le=600, description="seconds a WebSocket client has to send connection_init"
    )
    ws_keep_alive_seconds: float = Field(
        default=15.0, ge=0.1, le=600, description="interval of keep-alive pings (WebSocket and SSE)"
    )
    demo_live: bool = Field(
        default=True, description="in demo mode, a simulator advances the demo jobs (live updates)"
    )

    compiled_execution: bool = Field(
        default=True,
        description="run validated operations from compiled plans (cached per document); false: "
        "graphql-core's standard execution for every operation",
    )
    compiled_plans_cache_size: int = Field(
        default=512, ge=1, le=100_000, description="compiled operation plans kept per process (LRU)"
    )

    # Production surface: persisted queries, logs, shutdown.
    persisted_queries_cache_size: int = Field(
        default=1000,
        ge=0,
        le=1_000_000,
        description="persisted-query documents kept per instance (LRU); 0: no registration",
    )
    persisted_only: Path | None = Field(
        default=None, description="allow-list file (JSON): only the operations it lists run"
    )
    max_batch_size: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="operations a POST may send as one JSON array (a batch); 0: batches are refused",
    )
    get_cache_control: str | None = Field(
        default=None, description="`Cache-Control` of successful GET answers, e.g. `public, max-age=30`"
    )
    log_format: Literal["json", "text"] = Field(
        default="json", description="logs on standard output: one JSON object per line, or plain text"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="lowest level logged"
    )
    shutdown_timeout: float = Field(
        default=30.0, ge=0, le=600, description="seconds the requests in flight get to finish after SIGTERM"
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="proxies trusted for `X-Forwarded-For`/`-Proto` (uvicorn's `forwarded_allow_ips`)",
    )

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.default_page_size > self.max_page_size:
            raise ValueError("GATEWAY_DEFAULT_PAGE_SIZE must not exceed GATEWAY_MAX_PAGE_SIZE")
        if self.auth == "jwt" and not self.jwt_keys:
            raise ValueError("GATEWAY_AUTH=jwt needs GATEWAY_JWT_KEYS")
        if self.auth == "jwt" and self.jwt_keys:
            self._check_jwt_keys(self.jwt_keys)
        if "*" in self.cors_origin_list:
            raise ValueError("GATEWAY_CORS_ORIGINS takes explicit origins, not '*'")
        if self.persisted_only is not None and not self.persisted_only.is_file():
            raise ValueError(f"GATEWAY_PERSISTED_ONLY: no such file {self.persisted_only}")
        self._check_database()
        return self

    def _check_database(self) -> None:
        """The demo database serves only when asked for: by default on loopback, elsewhere with
        GATEWAY_DEMO=true; a forgotten URI must not look like a working gateway."""
        if self.mongodb_uri:
            if self.demo:
                raise ValueError(
                    "GATEWAY_DEMO=true contradicts GATEWAY_MONGODB_URI; unset one of them "
                    "(the demo database, or the MongoDB the URI names)"
                )
        elif self.demo is False:
            raise ValueError(
                "GATEWAY_MONGODB_URI is not set and GATEWAY_DEMO=false; "
                "set GATEWAY_MONGODB_URI to the power-scheduler MongoDB"
            )
        elif self.demo is None and not is_loopback(self.host):
            raise ValueError(
                "GATEWAY_MONGODB_URI is not set; set it to the power-scheduler MongoDB "
                f"(or GATEWAY_DEMO=true to serve the embedded demo database on {self.host})"
            )

    def _check_jwt_keys(self, keys: str) -> None:
        if hs256_secret(keys, allowed=self.jwt_allow_hs256) is not None:
            return
        path = Path(keys)
        try:
            path.read_bytes()
        except OSError as error:
            raise ValueError(f"GATEWAY_JWT_KEYS: cannot read {keys!r}: {error.strerror}") from None

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def uses_development_cursor_secret(self) -> bool:
        return self.cursor_secret.get_secret_value() == DEVELOPMENT_CURSOR_SECRET

    @property
    def uses_demo_database(self) -> bool:
        return not self.mongodb_uri


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) reaches this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
