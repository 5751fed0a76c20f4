"""Command line: ``python -m gateway [COMMAND]`` (also ``jobs-gateway``); ``--help`` lists the commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gateway.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jobs-gateway",
        description="GraphQL gateway over SpaceONE power-scheduler jobs. Settings come from "
        "GATEWAY_* environment variables; the options below override them.",
    )
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve HTTP (the default)")
    for target in (parser, serve):
        target.add_argument("--host", help="address to listen on (GATEWAY_HOST, 127.0.0.1)")
        target.add_argument("--port", type=int, help="port to listen on (GATEWAY_PORT, 8000)")
        target.add_argument("--workers", type=int, help="worker processes (GATEWAY_WORKERS, 1)")
    commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    commands.add_parser("config-reference", help="print the configuration reference (docs/configuration.md)")
    commands.add_parser("indexes", help="print the createIndex commands of the advised indexes (mongosh)")
    from gateway.http.graphiql import VENDOR_DIR  # noqa: PLC0415

    fetch = commands.add_parser(
        "fetch-graphiql",
        help="re-fetch the pinned GraphiQL assets (needs npm; they ship in the package)",
        description="Fetch the GraphiQL, React and style files pinned in gateway/http/graphiql.py "
        "with npm, check them against their pinned hashes and write them with their licences. "
        "The package ships them already: run this after changing the pins. By default it "
        f"writes into the folder this installed gateway serves: {VENDOR_DIR}",
    )
    fetch.add_argument("--dest", type=Path, help=f"folder to write (default: {VENDOR_DIR})")
    return parser


def _fetch_graphiql(args: argparse.Namespace) -> None:
    from gateway.http.assets import AssetFetchError, fetch_assets  # noqa: PLC0415
    from gateway.http.graphiql import VENDOR_DIR  # noqa: PLC0415

    try:
        written = fetch_assets(args.dest or VENDOR_DIR)
    except AssetFetchError as error:
        sys.exit(f"fetch-graphiql: {error}")
    for path in written:
        sys.stdout.write(f"{path}\n")


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    overrides = {
        key: value
        for key, value in (("host", args.host), ("port", args.port), ("workers", args.workers))
        if value is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        sys.exit(configuration_errors(error))
    from gateway.observability.logs import configure_logging, log_config

    configure_logging(settings)
    options = uvicorn_options(settings)
    options["log_config"] = log_config(settings)
    if settings.workers > 1:
        # Each worker builds its own app from the environment; pass the overrides down.
        import os

        os.environ.update({f"GATEWAY_{k.upper()}": str(v) for k, v in overrides.items()})
        uvicorn.run("gateway.app:app_from_environment", factory=True, **options)
        return
    from gateway.app import create_app

    try:
        app = create_app(settings)
    except ValueError as error:  # e.g. an unreadable persisted operations file
        sys.exit(f"jobs-gateway: invalid configuration:\n{error}")
    draining_server(uvicorn.Config(app, **options), drain=app.state.live.drain).run()


def draining_server(config: Any, drain: Any) -> Any:
    import asyncio

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server that first ends every live subscription (each subscriber is sent
        SERVICE_UNAVAILABLE) and lets those last messages go out before closing connections."""

        def __init__(self, config: uvicorn.Config, drain: Any) -> None:
            super().__init__(config)
            self._drain = drain

        async def shutdown(self, sockets: Any = None) -> None:
            self._drain()
            await asyncio.sleep(0.5)
            await super().shutdown(sockets)

    return Server(config, drain)


def configuration_errors(error: ValidationError) -> str:
    """One line per refused setting, named as it is set (``GATEWAY_PORT``), without a traceback."""
    lines = []
    for item in error.errors(include_url=False):
        cause = item.get("ctx", {}).get("error")
        message = str(cause) if item["type"] == "value_error" and cause is not None else item["msg"]
        name = f"GATEWAY_{str(item['loc'][0]).upper()}: " if item["loc"] else ""
        lines.append(f"jobs-gateway: {name}{message}")
    return "\n".join(lines)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options from the settings: SIGTERM stops accepting connections and gives the
    requests in flight ``shutdown_timeout`` seconds to finish before they are cancelled."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        "access_log": False,
        "server_header": False,
    }
    if settings.forwarded_allow_ips:
        options.update(proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips)
    return options


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        from schema import schema

        sys.stdout.write(schema.as_str() + "\n")
        return
    if args.command == "config-reference":
        from gateway.settings_reference import render_reference  # noqa: PLC0415

        sys.stdout.write(render_reference())
        return
    if args.command == "indexes":
        from gateway.mongo.indexes import index_script  # noqa: PLC0415

        sys.stdout.write(index_script())
        return
    if args.command == "fetch-graphiql":
        _fetch_graphiql(args)
        return
    _serve(args)


if __name__ == "__main__":
    main()
