"""Noisy neighbours: one domain floods the gateway with heavy statistics while another runs light
listings; the light domain's latency alone, beside a heavy client that sends one request at a
time (the floor: the wire server is one process, so any heavy work slows it), and under a flood
of 16 heavy requests in flight; once without a bound and once per bound of
``GATEWAY_MAX_CONCURRENT_COMMANDS_PER_DOMAIN``.

    python -m bench.bulkhead                    # bounds 0 (off) and 1, 8 s per phase
    python -m bench.bulkhead --bound 0 --bound 1 --bound 4 --seconds 15

SecantusDB and each gateway run as their own processes; the load comes from this process over
loopback (httpx). Figures are printed and written as JSON (``--json``); nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from bench.data import dataset
from gateway.demo import DEMO_DOMAINS

HEAVY_DOMAIN, LIGHT_DOMAIN = DEMO_DOMAINS[0], DEMO_DOMAINS[1]
DATABASE = "power-scheduler"
FLOOD = 16
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = Path(__file__).parent / "results" / "bulkhead.json"

LIGHT = {
    "query": "query Light($d: String) { jobs(domainId: $d, status: ERROR, query: {page: {limit: 20}}) "
    "{ totalCount results { jobId status createdAt finishedAt } } }",
    "variables": {"d": LIGHT_DOMAIN},
}
HEAVY = {
    "query": "query Heavy($d: String, $q: StatisticsQuery!) { jobStats(domainId: $d, query: $q) "
    "{ results totalCount } }",
    "variables": {
        "d": HEAVY_DOMAIN,
        "q": {
            "aggregate": [
                {"unwind": {"path": "errors"}},
                {
                    "group": {
                        "keys": [
                            {"key": "errors.error_code", "name": "code"},
                            {"key": "created_at", "name": "day", "dateFormat": "%Y-%m-%d"},
                        ],
                        "fields": [
                            {"operator": "COUNT", "name": "n"},
                            {"operator": "SUM", "key": "total_tasks", "name": "tasks"},
                        ],
                    }
                },
                {"sort": {"keys": [{"key": "n", "desc": True}, {"key": "code"}]}},
            ],
            "page": {"limit": 50},
        },
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def wire_server() -> Iterator[str]:
    """SecantusDB on a free port, in memory, as its own process; its URI."""
    binary = shutil.which("secantusd-py") or str(Path(sys.executable).with_name("secantusd-py"))
    port = free_port()
    process = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"mongodb://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with MongoClient(uri, serverSelectionTimeoutMS=300) as client:
                    client.admin.command("ping")
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("secantusd-py did not start") from None
                time.sleep(0.1)
        yield uri
    finally:
        _stop(process)


LIGHT_JOBS = 300  # a small tenant beside a large one


def seed(uri: str) -> dict[str, int]:
    """The benchmark data of the heavy domain (about 1,330 jobs) and 300 jobs of the light one."""
    data = dataset()
    light = [job for job in data.jobs if job["domain_id"] == LIGHT_DOMAIN][:LIGHT_JOBS]
    jobs = [job for job in data.jobs if job["domain_id"] == HEAVY_DOMAIN] + light
    with MongoClient(uri) as client:
        database = client[DATABASE]
        database["job"].insert_many([dict(job) for job in jobs])
        database["controller"].insert_many([dict(c) for c in data.controllers])
    return dict(Counter(job["domain_id"] for job in jobs))


@contextmanager
def gateway(uri: str, bound: int) -> Iterator[str]:
    """``python -m gateway`` on the wire server with this bound; its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env |= {
        "GATEWAY_MONGODB_URI": uri,
        "GATEWAY_MONGODB_DATABASE": DATABASE,
        "GATEWAY_PORT": str(port),
        "GATEWAY_MAX_CONCURRENT_COMMANDS_PER_DOMAIN": str(bound),
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GATEWAY_REQUEST_TIMEOUT_SECONDS": "120",
        "GATEWAY_MAX_TIME_MS": "120000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/readyz", process)
        yield url
    finally:
        _stop(process)


@dataclass
class Tally:
    seconds: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.seconds)
        if len(ordered) < 2:
            return {"requests": len(ordered), "failures": dict(self.failures)}
        quantiles = statistics.quantiles(ordered, n=100, method="inclusive")
        return {
            "requests": len(ordered),
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(quantiles[98] * 1000, 1),
            "failures": dict(self.failures),
        }


async def _client(http: httpx.AsyncClient, body: dict[str, Any], until: float, tally: Tally) -> None:
    """One client sending ``body`` again as soon as the previous answer came, until ``until``."""
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        started = loop.time()
        try:
            response = await http.post("/graphql", json=body)
            payload = response.json()
            codes = [e.get("extensions", {}).get("code", "?") for e in payload.get("errors") or ()]
            status = "ok" if response.status_code == 200 else str(response.status_code)
            outcome = codes[0] if codes else status
        except httpx.HTTPError as error:
            outcome = type(error).__name__
        if outcome == "ok":
            tally.seconds.append(loop.time() - started)
        else:
            tally.failures[outcome] += 1


async def phase(url: str, heavy_clients: int, seconds: float) -> dict[str, Any]:
    """The light client for ``seconds`` beside ``heavy_clients`` heavy ones (each one request at
    a time: 16 of them keep 16 requests in flight)."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=180, limits=limits) as http:
        for body in (LIGHT, HEAVY):  # warm up: connections, caches, documents parsed
            await http.post("/graphql", json=body)
        light, heavy = Tally(), Tally()
        until = asyncio.get_running_loop().time() + seconds
        await asyncio.gather(
            _client(http, LIGHT, until, light),
            *(_client(http, HEAVY, until, heavy) for _ in range(heavy_clients)),
        )
    return {"light": light.figures(), "heavy": heavy.figures()}


PHASES = (("alone", 0), ("one heavy at a time", 1), (f"flood of {FLOOD}", FLOOD))


def run(bounds: list[int], seconds: float) -> dict[str, Any]:
    report: dict[str, Any] = {"seconds_per_phase": seconds, "bounds": {}}
    with wire_server() as uri:
        report["jobs_per_domain"] = seed(uri)
        for bound in bounds:
            with gateway(uri, bound) as url:
                results = {name: asyncio.run(phase(url, clients, seconds)) for name, clients in PHASES}
            report["bounds"][str(bound)] = results
            _print(bound, results)
    return report


def _print(bound: int, results: dict[str, Any]) -> None:
    label = "off" if bound == 0 else str(bound)
    print(f"\nGATEWAY_MAX_CONCURRENT_COMMANDS_PER_DOMAIN={bound} (bound {label})")
    print(
        f"  {'phase':<22}{'light p50':>11}{'light p99':>11}{'light n':>9}{'light fail':>12}"
        f"{'heavy p50':>11}{'heavy n':>9}  heavy refused"
    )
    floor = results["one heavy at a time"]["light"].get("p99_ms")
    for name, figures in results.items():
        light, heavy = figures["light"], figures["heavy"]
        print(
            f"  {name:<22}{light.get('p50_ms', '-'):>11}{light.get('p99_ms', '-'):>11}"
            f"{light['requests']:>9}{sum(light['failures'].values()):>12}"
            f"{heavy.get('p50_ms', '-'):>11}{heavy['requests']:>9}  {heavy['failures'] or '-'}"
        )
    flood = results[f"flood of {FLOOD}"]["light"].get("p99_ms")
    if floor and flood:
        print(f"  light p99 under the flood / floor: {flood / floor:.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bulkhead",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--bound",
        type=int,
        action="append",
        default=[],
        help="GATEWAY_MAX_CONCURRENT_COMMANDS_PER_DOMAIN (repeatable; default 0 and 1)",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per phase (default 8)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"default {DEFAULT_JSON}")
    args = parser.parse_args(argv)
    report = run(args.bound or [0, 1], args.seconds)
    report["command"] = "python -m bench.bulkhead " + " ".join(sys.argv[1:] if argv is None else argv)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
