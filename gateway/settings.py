"""Runtime configuration, read from ``GATEWAY_*`` environment variables.

Settings are built once at start and injected (``create_app(settings)``); nothing reads the
environment later. Values that cannot work are refused at start, not at the first request.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    max_filter_depth: int = Field(default=8, ge=1)
    max_list_values: int = Field(default=1000, ge=1)
    max_regex_length: int = Field(default=256, ge=1)

    graphiql: bool = True
    introspection: bool = True

    demo_jobs: int = Field(default=3000, ge=0, le=100_000)
    demo_seed: int = 2020

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.default_page_size > self.max_page_size:
            raise ValueError("GATEWAY_DEFAULT_PAGE_SIZE must not exceed GATEWAY_MAX_PAGE_SIZE")
        if self.auth == "jwt" and not self.jwt_keys:
            raise ValueError("GATEWAY_AUTH=jwt needs GATEWAY_JWT_KEYS")
        return self

    @property
    def uses_demo_database(self) -> bool:
        return not self.mongodb_uri
