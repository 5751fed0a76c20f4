"""End to end: both apps served by uvicorn on loopback (each its own process, the server's
defaults: uvloop and httptools), reading SecantusDB (its own process) through Motor.

- load: a bounded loop per scenario, side and concurrency (1 and 16): requests/s, p50, p99;
- commands: MongoDB commands per request against page size, counted by a pymongo
  CommandListener on the gateway's own client (in process, same wire server);
- memory: resident set of each server process, idle and at peak (VmHWM) after serving the
  1,000-job page with errors and controllers (concurrency 1: SecantusDB is the bottleneck).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from bench import asgi
from bench.data import DOMAIN, Dataset
from bench.scenarios import JOBS, NESTED, SCALARS, Scenario
from bench.servers import CommandRecorder, WireServer, free_port, stop_process
from gateway.app import create_app
from gateway.mongo.client import open_mongo
from gateway.settings import Settings

DATABASE = "power-scheduler"
ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = (1, 16)
E2E_MAX_PAGE = 100  # larger pages only for memory, at concurrency 1 (see README)
MEMORY_CONCURRENCY = 1


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def rss_kib(self, field: str = "VmRSS") -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        stop_process(self.process)


def _start(name: str, command: list[str], env: dict[str, str], port: int, probe: str) -> Server:
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = Server(name, process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited during start")
        try:
            if httpx.get(server.url + probe, timeout=1).status_code < 500:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} not ready after 30 s")


@contextmanager
def servers(
    uri: str, env: dict[str, str] | None = None, baseline_env: dict[str, str] | None = None
) -> Iterator[tuple[Server, Server]]:
    """The gateway (with ``env``) and the baseline (with ``baseline_env``), each its own process."""
    gateway_port, baseline_port = free_port(), free_port()
    gateway = _start(
        "gateway",
        [sys.executable, "-m", "gateway", "--port", str(gateway_port)],
        {"GATEWAY_MONGODB_URI": uri, "GATEWAY_MONGODB_DATABASE": DATABASE, **(env or {})},
        gateway_port,
        "/healthz",
    )
    try:
        baseline = _start(
            "baseline",
            [sys.executable, "-m", "bench.baseline", uri + DATABASE, str(baseline_port)],
            {"GATEWAY_MONGODB_DATABASE": DATABASE, **(baseline_env or {})},
            baseline_port,
            "/job?domain_id=x&job_id=x",
        )
    except BaseException:
        gateway.stop()
        raise
    try:
        yield gateway, baseline
    finally:
        gateway.stop()
        baseline.stop()


async def _load(server: Server, scenario: Scenario, concurrency: int, duration: float) -> dict[str, Any]:
    """Each of ``concurrency`` workers sends requests back to back until ``duration`` is up."""
    is_gateway = server.name == "gateway"
    body = scenario.graphql_body()
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:

        async def one() -> None:
            if is_gateway:
                response = await client.post(
                    "/graphql", content=body, headers={"content-type": "application/json"}
                )
            else:
                response = await client.get(scenario.baseline_path)
            response.raise_for_status()

        await asyncio.gather(*(one() for _ in range(concurrency)))  # open the connections
        stop = time.perf_counter() + duration

        async def worker() -> None:
            while (start := time.perf_counter()) < stop:
                await one()
                latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
    }


def _seed(uri: str, data: Dataset) -> None:
    with MongoClient(uri) as client:
        client.drop_database(DATABASE)
        client[DATABASE]["job"].insert_many([dict(doc) for doc in data.jobs])
        client[DATABASE]["controller"].insert_many([dict(doc) for doc in data.controllers])
        client[DATABASE]["job"].create_index([("domain_id", 1), ("created_at", -1), ("_id", 1)])
        client[DATABASE]["job"].create_index([("domain_id", 1), ("job_id", 1)])


async def _run_load(
    gateway: Server, baseline: Server, chosen: list[Scenario], duration: float
) -> list[dict[str, Any]]:
    rows = []
    print(f"\nEnd to end (uvicorn on loopback, SecantusDB), {duration:g} s per loop")
    print(
        f"{'scenario':<34} {'conc':>4} {'gw req/s':>9} {'gw p50':>8} {'gw p99':>8} "
        f"{'bl req/s':>9} {'bl p50':>8} {'bl p99':>8} {'ratio':>6}"
    )
    for scenario in chosen:
        if scenario.page_size > E2E_MAX_PAGE:
            print(f"{scenario.name:<34} skipped: SecantusDB needs seconds per request at this size")
            continue
        for concurrency in CONCURRENCY:
            gw = await _load(gateway, scenario, concurrency, duration)
            bl = await _load(baseline, scenario, concurrency, duration)
            ratio = bl["rps"] / gw["rps"]
            print(
                f"{scenario.name:<34} {concurrency:>4} {gw['rps']:>9.0f} {gw['p50_ms']:>6.1f}ms "
                f"{gw['p99_ms']:>6.1f}ms {bl['rps']:>9.0f} {bl['p50_ms']:>6.1f}ms "
                f"{bl['p99_ms']:>6.1f}ms {ratio:>5.2f}×"
            )
            rows.append(
                {
                    "scenario": scenario.name,
                    "concurrency": concurrency,
                    "gateway": _rounded(gw),
                    "baseline": _rounded(bl),
                    "ratio_rps": round(ratio, 3),
                }
            )
    return rows


def _rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {key: round(value, 2) if isinstance(value, float) else value for key, value in figures.items()}


async def _commands(uri: str) -> list[dict[str, Any]]:
    """Commands the gateway sends per request, by page size (they must not grow with it)."""
    recorder = CommandRecorder()
    handle = open_mongo(Settings(mongodb_uri=uri, mongodb_database=DATABASE), [recorder])
    app = create_app(Settings(mongodb_uri=uri, mongodb_database=DATABASE), handle)
    rows = []
    print("\nMongoDB commands per request (CommandListener on the gateway's client)")
    print(f"{'page size':>9} {'scalars':>8} {'+totalCount':>12} {'+errors +controller':>20}")
    try:
        for size in (1, 10, 100, 1000):
            counts = {}
            for label, selection in (
                ("scalars", f"results {{ {SCALARS} }}"),
                ("count", f"totalCount results {{ {SCALARS} }}"),
                ("nested", f"results {{ {NESTED} }}"),
            ):
                body = Scenario("", JOBS % selection, {"domainId": DOMAIN, "limit": size}, "")
                recorder.clear()
                status, _ = await asgi.request(app, "POST", "/graphql", body.graphql_body(), "application/json")
                assert status == 200
                counts[label] = len(recorder.commands)
            print(f"{size:>9} {counts['scalars']:>8} {counts['count']:>12} {counts['nested']:>20}")
            rows.append({"page_size": size, **counts})
    finally:
        await handle.close()
    return rows


async def _memory(gateway: Server, baseline: Server, chosen: list[Scenario], duration: float) -> dict[str, Any]:
    page = next((s for s in chosen if s.name == "jobs 1000 +errors +controller"), None)
    if page is None:
        print("\nmemory: skipped (needs the scenario 'jobs 1000 +errors +controller')")
        return {}
    idle = {s.name: s.rss_kib() for s in (gateway, baseline)}
    for server in (gateway, baseline):
        await _load(server, page, MEMORY_CONCURRENCY, duration)
    peak = {s.name: s.rss_kib("VmHWM") for s in (gateway, baseline)}
    print(f"\nPeak memory (RSS) serving '{page.name}' at concurrency {MEMORY_CONCURRENCY}")
    for name in ("gateway", "baseline"):
        print(f"{name:<9} idle {idle[name] / 1024:6.1f} MiB   peak {peak[name] / 1024:6.1f} MiB")
    return {
        "scenario": page.name,
        "idle_mib": {k: round(v / 1024, 1) for k, v in idle.items()},
        "peak_mib": {k: round(v / 1024, 1) for k, v in peak.items()},
    }


def run_endtoend(data: Dataset, chosen: list[Scenario], parts: list[str], duration: float) -> dict[str, Any]:
    wire = WireServer.start()
    report: dict[str, Any] = {}
    try:
        _seed(wire.uri, data)
        if "commands" in parts:
            report["commands"] = asyncio.run(_commands(wire.uri))
        if "endtoend" in parts or "memory" in parts:
            with servers(wire.uri) as (gateway, baseline):
                if "endtoend" in parts:
                    report["endtoend"] = asyncio.run(_run_load(gateway, baseline, chosen, duration))
            if "memory" in parts:  # fresh processes: peak RSS of this page alone
                with servers(wire.uri) as (gateway, baseline):
                    report["memory"] = asyncio.run(_memory(gateway, baseline, chosen, duration))
    finally:
        wire.stop()
    return report
