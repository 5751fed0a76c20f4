"""Command line: ``python -m gateway [serve|export-schema]`` (also installed as ``jobs-gateway``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

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
    return parser


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
        sys.exit(f"jobs-gateway: invalid configuration:\n{error}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.workers > 1:
        # Each worker builds its own app from the environment; pass the overrides down.
        import os

        os.environ.update({f"GATEWAY_{k.upper()}": str(v) for k, v in overrides.items()})
        uvicorn.run(
            "gateway.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
        )
        return
    from gateway.app import create_app

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        from schema import schema

        sys.stdout.write(schema.as_str() + "\n")
        return
    _serve(args)


if __name__ == "__main__":
    main()
