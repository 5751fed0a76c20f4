"""Runtime configuration, read from ``GATEWAY_*`` environment variables.

Settings are built once at start and injected (``create_app(settings)``); nothing reads the
environment later. Values that cannot work are refused at start, not at the first request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_CURSOR_SECRET = "jobs-gateway-development-cursor-secret"
"""The default cursor key: fine for development, public knowledge, warned about in production."""


class Settings(BaseSettings):
    """Every knob of the gateway; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    mongodb_uri: str | None = Field(
        default=None, description="MongoDB to read; unset: the embedded demo database"
    )
    mongodb_database: str = "power-scheduler"
    mongodb_server_selection_timeout_ms: int = Field(default=3000, ge=100, le=60_000)
    mongodb_max_pool_size: int = Field(default=20, ge=1, le=500)
    max_time_ms: int = Field(default=10_000, ge=1, description="server-side limit per command")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)

    auth: Literal["none", "jwt"] = "none"
    jwt_keys: str | None = None

    default_page_size: int = Field(default=100, ge=1)
    max_page_size: int = Field(default=1000, ge=1)
    max_filter_conditions: int = Field(default=50, ge=1)
    max_filter_depth: int = Field(
        default=8, ge=1, description="deepest and/or/not nesting of a compiled filter"
    )
    max_list_values: int = Field(default=1000, ge=1)
    max_regex_length: int = Field(default=256, ge=1)

    stats_max_rows: int = Field(
        default=10_000, ge=1, le=1_000_000, description="rows a statistics query may return"
    )
    stats_max_stages: int = Field(default=20, ge=1, le=200, description="stages per statistics query")
    aggregate_allow_disk_use: bool = Field(
        default=False, description="let aggregation pipelines spill to disk on the server"
    )
    timeline_max_buckets: int = Field(
        default=1000, ge=1, le=100_000, description="buckets one jobTimeline may return"
    )

    cursor_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_CURSOR_SECRET),
        min_length=16,
        description="key that signs connection cursors; the same on every instance",
    )

    graphiql: bool = True
    introspection: bool = True

    # security: authentication, request cost limits, CORS --------------------------------------
    jwt_allow_hs256: bool = Field(default=False, description="accept hs256:<secret> (development)")
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=600, description="clock skew for exp/nbf")
    jwt_issuer: str | None = Field(default=None, description="required `iss` claim, if set")
    jwt_audience: str | None = Field(default=None, description="required `aud` claim, if set")
    max_query_depth: int = Field(default=10, ge=2, le=100)
    max_query_tokens: int = Field(default=1000, ge=50, le=100_000)
    max_aliases: int = Field(default=15, ge=0, le=1000)
    max_root_fields: int = Field(default=8, ge=1, le=1000)
    max_requested_items: int = Field(default=5000, ge=1)
    max_input_depth: int = Field(default=16, ge=2, le=100)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    cors_origins: str = Field(default="", description="comma-separated allowed origins")

    # live updates (subscriptions) -----------------------------------------------------------
    live_poll_seconds: float = Field(
        default=2.0, ge=0.1, le=300,
        description="poll interval per domain with subscribers when MongoDB has no change streams",
    )
    max_subscriptions_per_connection: int = Field(
        default=20, ge=1, le=10_000, description="subscriptions one WebSocket or SSE connection may hold"
    )
    max_subscriptions: int = Field(
        default=10_000, ge=1, le=1_000_000, description="subscriptions one process may hold"
    )
    live_buffer_events: int = Field(
        default=256, ge=1, le=100_000,
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

    demo_jobs: int = Field(default=3000, ge=0, le=100_000)
    demo_seed: int = 2020

    # Production surface: persisted queries, logs, shutdown.
    persisted_queries_cache_size: int = Field(
        default=1000, ge=0, le=1_000_000, description="APQ entries kept per instance; 0: APQ off"
    )
    persisted_only: Path | None = Field(
        default=None, description="allow-list file: only the operations it lists run"
    )
    get_cache_control: str | None = Field(
        default=None, description="Cache-Control of successful GET answers, e.g. 'public, max-age=30'"
    )
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    shutdown_timeout: float = Field(
        default=30.0, ge=0, le=600, description="seconds to finish in-flight requests on SIGTERM"
    )
    forwarded_allow_ips: str | None = Field(
        default=None, description="proxies trusted for X-Forwarded-* (uvicorn's option)"
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
        return self

    def _check_jwt_keys(self, keys: str) -> None:
        if keys.startswith("hs256:"):
            if not self.jwt_allow_hs256:
                raise ValueError(
                    "GATEWAY_JWT_KEYS=hs256:<secret> is for development only; "
                    "set GATEWAY_JWT_ALLOW_HS256=true to use it"
                )
            if len(keys) - len("hs256:") < 32:
                raise ValueError("the hs256 secret must be at least 32 characters long")
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
