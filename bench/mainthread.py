"""Main-thread CPU per request in one process, over the real driver: both apps called over
ASGI (no socket, no client library) on one event loop, each with Motor talking to the wire
server (SecantusDB, or ``GATEWAY_TEST_MONGODB_URI``).

The figure is the CPU time of the calling thread (``time.thread_time_ns``) per request: the
event loop's share, the part compiled execution and the request path are about, without the
driver's threads and without HTTP parsing. It is close to the main-thread column of
``bench.cpu`` and quick to repeat, so it serves to compare a change with and without it. Rounds
alternate between the apps; medians. ``--profile DIR`` then writes a cProfile of the gateway's
main thread per scenario (``python -m pstats DIR/<scenario>.prof``).

    python -m bench.mainthread "job by id" "jobStats" --requests 60 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from motor.motor_asyncio import AsyncIOMotorClient

from bench.asgi import request
from bench.baseline import create_baseline_app
from bench.data import dataset
from bench.endtoend import DATABASE, _seed
from bench.scenarios import Scenario, scenarios
from bench.servers import WireServer
from gateway.app import create_app
from gateway.settings import Settings

Call = Callable[[], Awaitable[tuple[int, bytes]]]


async def _per_request(call: Call, requests: int) -> float:
    """Microseconds of this thread's CPU per request, over ``requests`` sent back to back."""
    started = time.thread_time_ns()
    for _ in range(requests):
        await call()
    return (time.thread_time_ns() - started) / requests / 1000


async def _compare(uri: str, chosen: list[Scenario], rounds: int, requests: int, profile: Path | None) -> None:
    gateway = create_app(Settings(mongodb_uri=uri, mongodb_database=DATABASE))
    client: Any = AsyncIOMotorClient(uri)
    baseline = create_baseline_app(client[DATABASE])
    print(f"{'scenario':<34} {'gateway µs':>11} {'baseline µs':>12} {'ratio':>6}")
    for scenario in chosen:
        body = scenario.graphql_body()

        async def ask_gateway(body: bytes = body) -> tuple[int, bytes]:
            return await request(gateway, "POST", "/graphql", body, "application/json")

        async def ask_baseline(path: str = scenario.baseline_path) -> tuple[int, bytes]:
            return await request(baseline, "GET", path)

        (_, ours), (_, theirs) = await ask_gateway(), await ask_baseline()
        if json.loads(ours) != json.loads(theirs):
            raise SystemExit(f"{scenario.name}: the bodies differ")
        for _ in range(20):  # the plan is learnt, pools and caches warm
            await ask_gateway()
            await ask_baseline()
        figures: dict[str, list[float]] = {"gateway": [], "baseline": []}
        for _ in range(rounds):
            figures["gateway"].append(await _per_request(ask_gateway, requests))
            figures["baseline"].append(await _per_request(ask_baseline, requests))
        ours_us, theirs_us = (statistics.median(figures[side]) for side in ("gateway", "baseline"))
        print(f"{scenario.name:<34} {ours_us:>11.0f} {theirs_us:>12.0f} {ours_us / theirs_us:>5.2f}×")
        if profile is not None:
            profiler = cProfile.Profile(timer=time.thread_time_ns, timeunit=1e-9)
            profiler.enable()
            for _ in range(requests):
                await ask_gateway()
            profiler.disable()
            profiler.dump_stats(profile / f"{scenario.name.replace(' ', '_')}.prof")
    client.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mainthread", description=__doc__)
    parser.add_argument("scenario", nargs="*", help="scenarios whose name contains this text")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=60, help="requests per round and app")
    parser.add_argument("--profile", type=Path, help="write a cProfile per scenario to this folder")
    args = parser.parse_args(argv)
    data = dataset()
    wanted = args.scenario
    chosen = [s for s in scenarios(data) if not wanted or any(w in s.name for w in wanted)]
    chosen = [s for s in chosen if s.page_size <= 100]
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    given = os.environ.get("GATEWAY_TEST_MONGODB_URI")
    wire = None if given else WireServer.start()
    uri = given or (wire.uri if wire else "")
    try:
        _seed(uri, data)
        asyncio.run(_compare(uri, chosen, args.rounds, args.requests, args.profile))
    finally:
        if wire is not None:
            wire.stop()


if __name__ == "__main__":
    main()
