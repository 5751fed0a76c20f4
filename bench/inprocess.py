"""In-process timing: each app called directly over ASGI, both reading the same replayed results.

Per scenario: one request to each side is checked (same status, same JSON, same MongoDB
commands), then rounds alternate the two sides (which goes first flips every round), each round
timing a batch of requests sized to take about ``batch_seconds``. Reported: the median over rounds
of the mean time per request, and the ratio gateway / baseline.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mongomock_motor import AsyncMongoMockClient

from bench import asgi
from bench.baseline import create_baseline_app
from bench.data import Dataset
from bench.replay import RecordingDatabase, ReplayDatabase
from bench.scenarios import Scenario
from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings

Call = Callable[[], Awaitable[tuple[int, bytes]]]


@dataclass(frozen=True, slots=True)
class Timing:
    scenario: str
    gateway_us: float
    baseline_us: float
    gateway_rounds: list[float]
    baseline_rounds: list[float]
    commands: int
    response_bytes: int

    @property
    def ratio(self) -> float:
        return self.gateway_us / self.baseline_us


def bench_settings() -> Settings:
    return Settings(mongodb_uri="mongodb://bench.invalid", demo_jobs=0, graphiql=False)


def gateway_app(database: Any) -> Any:
    return create_app(bench_settings(), MongoHandle(client=None, database=database, embedded=False))


def gateway_call(app: Any, scenario: Scenario) -> Call:
    body = scenario.graphql_body()
    return lambda: asgi.request(app, "POST", "/graphql", body, "application/json")


def baseline_call(app: Any, scenario: Scenario) -> Call:
    return lambda: asgi.request(app, "GET", scenario.baseline_path)


class InProcess:
    """Both apps over a recording of the benchmark documents, then over its replay."""

    def __init__(self, data: Dataset) -> None:
        self._data = data
        self._recording: RecordingDatabase | None = None

    async def setup(self) -> None:
        real = AsyncMongoMockClient(tz_aware=False)["power-scheduler"]
        await real["job"].insert_many([dict(doc) for doc in self._data.jobs])
        await real["controller"].insert_many([dict(doc) for doc in self._data.controllers])
        self._recording = RecordingDatabase(real)

    async def check(self, scenario: Scenario) -> tuple[int, int]:
        """Record the gateway's commands, then require the baseline to send the same ones and
        answer the same JSON. Returns (commands per request, response bytes)."""
        assert self._recording is not None
        recording = self._recording
        recording.log.clear()
        status, gateway_body = await gateway_call(gateway_app(recording), scenario)()
        gateway_commands = Counter(recording.log)
        replay = recording.replay()
        base_status, baseline_body = await baseline_call(create_baseline_app(replay), scenario)()
        expected, actual = json.loads(gateway_body), json.loads(baseline_body)
        if status != 200 or "errors" in expected:
            raise AssertionError(f"{scenario.name}: gateway answered {status} {expected}")
        if base_status != 200 or expected != actual:
            raise AssertionError(f"{scenario.name}: baseline body differs from the gateway's")
        if Counter(replay.log) != gateway_commands:
            raise AssertionError(f"{scenario.name}: baseline sends other MongoDB commands")
        return sum(gateway_commands.values()), len(gateway_body)

    def replay(self) -> ReplayDatabase:
        assert self._recording is not None
        return self._recording.replay()

    async def time(self, scenario: Scenario, rounds: int, batch_seconds: float) -> Timing:
        commands, size = await self.check(scenario)
        gateway = gateway_call(gateway_app(self.replay()), scenario)
        baseline = baseline_call(create_baseline_app(self.replay()), scenario)
        batch = await _batch_size(gateway, baseline, batch_seconds)
        gateway_rounds: list[float] = []
        baseline_rounds: list[float] = []
        for index in range(rounds):
            order = [(gateway, gateway_rounds), (baseline, baseline_rounds)]
            for call, into in order if index % 2 == 0 else reversed(order):
                into.append(await _mean_seconds(call, batch) * 1e6)
        return Timing(
            scenario.name,
            statistics.median(gateway_rounds),
            statistics.median(baseline_rounds),
            gateway_rounds,
            baseline_rounds,
            commands,
            size,
        )


async def _mean_seconds(call: Call, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        await call()
    return (time.perf_counter() - start) / count


async def _batch_size(gateway: Call, baseline: Call, batch_seconds: float) -> int:
    """Warm both sides up, then size a batch so the slower side takes about ``batch_seconds``."""
    for _ in range(3):
        await gateway()
        await baseline()
    slowest = max(await _mean_seconds(gateway, 3), await _mean_seconds(baseline, 3))
    return max(3, int(batch_seconds / slowest))


async def run_inprocess(
    data: Dataset, chosen: list[Scenario], rounds: int, batch_seconds: float
) -> list[dict[str, Any]]:
    bench = InProcess(data)
    await bench.setup()
    rows: list[dict[str, Any]] = []
    print(
        f"\nIn process (ASGI called directly, replayed MongoDB results), {rounds} rounds, "
        "median of per-request means"
    )
    print(f"{'scenario':<34} {'gateway µs':>11} {'baseline µs':>12} {'ratio':>6} {'cmds':>5} {'bytes':>8}")
    for scenario in chosen:
        timing = await bench.time(scenario, rounds, batch_seconds)
        print(
            f"{timing.scenario:<34} {timing.gateway_us:>11.0f} {timing.baseline_us:>12.0f} "
            f"{timing.ratio:>5.2f}× {timing.commands:>5} {timing.response_bytes:>8}"
        )
        rows.append(
            {
                "scenario": timing.scenario,
                "gateway_us": round(timing.gateway_us, 1),
                "baseline_us": round(timing.baseline_us, 1),
                "ratio": round(timing.ratio, 3),
                "commands": timing.commands,
                "response_bytes": timing.response_bytes,
                "gateway_rounds_us": [round(x, 1) for x in timing.gateway_rounds],
                "baseline_rounds_us": [round(x, 1) for x in timing.baseline_rounds],
            }
        )
    return rows
