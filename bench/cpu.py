"""End to end CPU per request: the gateway and the baseline each served by uvicorn in its own
process, the real driver, the wire server (SecantusDB, or ``GATEWAY_TEST_MONGODB_URI``); once
per driver (Motor and PyMongo's ``AsyncMongoClient``, ``GATEWAY_MONGODB_DRIVER``), the gateway
against a baseline on the same driver.

The figure is the CPU time (from ``/proc/<pid>/task/*/schedstat``) the server process spends
per request, so a slow database does not blur it, with the part of its main thread (the event
loop: the server's own code, the HTTP protocol and the driver's callbacks; the rest is the
driver's threads). Rounds alternate between the two servers; each round sends the same number
of requests back to back from one client; the medians of the rounds are reported, with their
ratio. Before timing, each scenario's bodies are compared: both servers must return the same
JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.scenarios import Scenario


def cpu_seconds(pid: int, *, main_thread: bool = False) -> float:
    """CPU time of every thread of a process so far (or of its main thread, the event loop's),
    in seconds, to the nanosecond (``/proc/<pid>/task/*/schedstat``: its first field is the time
    spent on a CPU; the driver's threads count too). Threads that ended take their time with
    them, so the servers' thread pools are warmed before measuring."""
    total = 0
    for task in [str(pid)] if main_thread else os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1e9


@dataclass(frozen=True, slots=True)
class Target:
    """One server to measure: its process, base URL and how it is asked for a scenario."""

    name: str
    pid: int
    url: str
    graphql: bool

    def send(self, client: httpx.Client, scenario: Scenario) -> httpx.Response:
        if self.graphql:
            return client.post(
                self.url + "/graphql",
                content=scenario.graphql_body(),
                headers={"content-type": "application/json", "accept": "application/json"},
            )
        return client.get(self.url + scenario.baseline_path)


def same_body(gateway: Target, baseline: Target, scenario: Scenario, client: httpx.Client) -> bool:
    ours, theirs = gateway.send(client, scenario), baseline.send(client, scenario)
    return bool(json.loads(ours.content) == json.loads(theirs.content))


def cpu_per_request(target: Target, scenario: Scenario, client: httpx.Client, requests: int) -> float:
    """Seconds of the server's CPU per request over ``requests`` requests sent back to back."""
    return cpu_split_per_request(target, scenario, client, requests)[0]


def cpu_split_per_request(
    target: Target, scenario: Scenario, client: httpx.Client, requests: int
) -> tuple[float, float]:
    """Seconds of CPU per request of the whole server process and of its main thread (the
    event loop: the server's own code; the rest is the driver's threads)."""
    before, main_before = cpu_seconds(target.pid), cpu_seconds(target.pid, main_thread=True)
    for _ in range(requests):
        response = target.send(client, scenario)
        response.raise_for_status()
    total = cpu_seconds(target.pid) - before
    return total / requests, (cpu_seconds(target.pid, main_thread=True) - main_before) / requests


def compare(
    gateway: Target, baseline: Target, scenario: Scenario, *, rounds: int, requests: int
) -> dict[str, Any]:
    """Interleaved rounds on both servers; medians of the per-round CPU per request."""
    with httpx.Client(timeout=120) as client:
        identical = same_body(gateway, baseline, scenario, client)
        for target in (gateway, baseline):  # warm: caches, connections, pools
            cpu_per_request(target, scenario, client, max(2, requests // 4))
        figures: dict[str, list[float]] = {gateway.name: [], baseline.name: []}
        for _ in range(rounds):
            for target in (gateway, baseline):
                figures[target.name].append(cpu_per_request(target, scenario, client, requests))
    ours, theirs = statistics.median(figures[gateway.name]), statistics.median(figures[baseline.name])
    return {
        "scenario": scenario.name,
        "identical": identical,
        "gateway_ms": round(ours * 1e3, 3),
        "baseline_ms": round(theirs * 1e3, 3),
        "ratio": round(ours / theirs, 3) if theirs else None,
    }


def wait_idle(seconds: float = 0.2) -> None:
    time.sleep(seconds)


def compare_drivers(
    pairs: dict[str, tuple[Target, Target]], scenario: Scenario, *, rounds: int, requests: int
) -> dict[str, Any]:
    """:func:`compare` for several (gateway, baseline) pairs, one per driver, their rounds
    interleaved so that every server sees the same conditions; ``gateway_vs_motor`` is each
    gateway's CPU per request over the Motor gateway's."""
    targets = [target for pair in pairs.values() for target in pair]
    with httpx.Client(timeout=120) as client:
        identical = {d: same_body(gw, bl, scenario, client) for d, (gw, bl) in pairs.items()}
        for target in targets:  # warm: caches, connections, pools
            cpu_per_request(target, scenario, client, max(2, requests // 4))
        figures: dict[str, list[float]] = {target.name: [] for target in targets}
        main: dict[str, list[float]] = {target.name: [] for target in targets}
        for _ in range(rounds):
            for target in targets:
                total, on_main = cpu_split_per_request(target, scenario, client, requests)
                figures[target.name].append(total)
                main[target.name].append(on_main)
    medians = {name: statistics.median(values) for name, values in figures.items()}
    main_medians = {name: statistics.median(values) for name, values in main.items()}
    row: dict[str, Any] = {"scenario": scenario.name, "drivers": {}}
    first_gateway = medians[next(iter(pairs.values()))[0].name]
    for driver, (gateway, baseline) in pairs.items():
        ours, theirs = medians[gateway.name], medians[baseline.name]
        row["drivers"][driver] = {
            "identical": identical[driver],
            "gateway_ms": round(ours * 1e3, 3),
            "baseline_ms": round(theirs * 1e3, 3),
            "ratio": round(ours / theirs, 3) if theirs else None,
            "gateway_main_ms": round(main_medians[gateway.name] * 1e3, 3),
            "baseline_main_ms": round(main_medians[baseline.name] * 1e3, 3),
            "gateway_vs_first": round(ours / first_gateway, 3) if first_gateway else None,
        }
    return row


def _print_header(drivers: list[str]) -> None:
    head = f"{'scenario':<34}"
    for driver in drivers:
        head += f" | {driver + ': same':>13} {'gateway':>9} {'baseline':>9} {'ratio':>6} {'main thread':>15}"
    print(head + (f" | {drivers[-1]}/{drivers[0]} gw" if len(drivers) > 1 else ""))


def _print_row(row: dict[str, Any]) -> None:
    line = f"{row['scenario']:<34}"
    figures = list(row["drivers"].values())
    for one in figures:
        line += (
            f" | {'yes' if one['identical'] else 'NO':>13} {one['gateway_ms']:>7.2f}ms "
            f"{one['baseline_ms']:>7.2f}ms {one['ratio']:>5.2f}× "
            f"{one['gateway_main_ms']:>6.2f}/{one['baseline_main_ms']:<6.2f}ms"
        )
    if len(figures) > 1:
        line += f" | {figures[-1]['gateway_vs_first']:>5.2f}×"
    print(line)


def run_cpu(
    chosen: list[Scenario],
    *,
    rounds: int,
    requests: int,
    env: dict[str, str] | None = None,
    drivers: tuple[str, ...] = ("motor", "pymongo"),
) -> list[dict[str, Any]]:
    """Start the wire server and, for each driver, a gateway and a baseline that use it
    (``GATEWAY_MONGODB_DRIVER``); seed the benchmark data; compare each scenario."""
    from contextlib import ExitStack  # noqa: PLC0415

    from bench.data import dataset  # noqa: PLC0415
    from bench.endtoend import _seed, servers  # noqa: PLC0415
    from bench.servers import WireServer  # noqa: PLC0415

    wire = WireServer.start()
    rows: list[dict[str, Any]] = []
    try:
        _seed(wire.uri, dataset())
        with ExitStack() as stack:
            pairs: dict[str, tuple[Target, Target]] = {}
            for driver in drivers:
                chosen_driver = {"GATEWAY_MONGODB_DRIVER": driver}
                gw, bl = stack.enter_context(servers(wire.uri, {**(env or {}), **chosen_driver}, chosen_driver))
                pairs[driver] = (
                    Target(f"gateway-{driver}", gw.process.pid, gw.url, graphql=True),
                    Target(f"baseline-{driver}", bl.process.pid, bl.url, graphql=False),
                )
            _print_header(list(drivers))
            for scenario in chosen:
                row = compare_drivers(pairs, scenario, rounds=rounds, requests=requests)
                _print_row(row)
                rows.append(row)
    finally:
        wire.stop()
    return rows


if __name__ == "__main__":
    import sys

    from bench.data import dataset
    from bench.scenarios import scenarios

    wanted = sys.argv[1:]
    chosen = [s for s in scenarios(dataset()) if not wanted or any(w in s.name for w in wanted)]
    chosen = [s for s in chosen if s.page_size <= 100]
    only = os.environ.get("BENCH_DRIVERS")  # e.g. BENCH_DRIVERS=motor: one driver only
    run_cpu(chosen, rounds=7, requests=60, drivers=tuple(only.split(",")) if only else ("motor", "pymongo"))


def profile(scenario_name: str, seconds: float = 8.0, out: str = "/tmp/profile.txt") -> None:
    """py-spy on the live gateway process while one client sends ``scenario_name``."""
    import subprocess  # noqa: PLC0415

    from bench.data import dataset  # noqa: PLC0415
    from bench.endtoend import _seed, servers  # noqa: PLC0415
    from bench.scenarios import scenarios  # noqa: PLC0415
    from bench.servers import WireServer  # noqa: PLC0415

    data = dataset()
    scenario = next(s for s in scenarios(data) if s.name == scenario_name)
    wire = WireServer.start()
    try:
        _seed(wire.uri, data)
        with servers(wire.uri) as (gateway_server, _):
            target = Target("gateway", gateway_server.process.pid, gateway_server.url, graphql=True)
            with httpx.Client(timeout=60) as client:
                cpu_per_request(target, scenario, client, 20)
                spy = subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "--pid",
                        str(target.pid),
                        "-d",
                        str(int(seconds)),
                        "-f",
                        "raw",
                        "-o",
                        out,
                        "-r",
                        "1000",
                        "--threads",
                        "--gil",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                stop = time.monotonic() + seconds
                while time.monotonic() < stop:
                    target.send(client, scenario)
                spy.wait()
    finally:
        wire.stop()
