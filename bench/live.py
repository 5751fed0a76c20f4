"""Live updates under load: one gateway process over SecantusDB (each its own process), N
subscriptions over a few WebSocket connections, a steady stream of job writes.

    python -m bench.live                       # 1 / 100 / 1,000 subscriptions, 50 changes/s
    python -m bench.live --subscribers 1 100 1000 5000 --rate 50 --seconds 10

Subscriptions are spread over 10 domains and four filters (none, IN_PROGRESS, remainedTasks < 5,
not SUCCESS); each write goes to a random domain and carries its send time in ``filters.sent``,
so the delivery latency of every event is measured by the client. Figures per level: events
delivered, delivery latency p50/p99, gateway CPU per delivered event, MongoDB commands per second
(from the gateway's /metrics; the idle change-stream getMore included), resident memory per
subscription.

The client is kept from being the bottleneck (the machine has 2 cores; one Python process reading
~15,000 messages/s would saturate one): the connections are spread, whole, over ``--clients``
client processes (3 by default), each reading with ``orjson``; the writer and the measurements
stay in the parent. The clients negotiate permessage-deflate as browsers do, so the gateway's
figures include compressing each frame. Compare delivered with expected: fewer delivered means
the events did not arrive within 3 s of the last write.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from bson import ObjectId
from pymongo import MongoClient

DOMAINS = tuple(f"domain-bench{n:07d}" for n in range(10))
FILTERS = (
    None,
    {"status": {"eq": "IN_PROGRESS"}},
    {"remainedTasks": {"lt": 5}},
    {"not": {"status": {"eq": "SUCCESS"}}},
)
PER_CONNECTION = 250
QUERY = """subscription($filter: JobFilter, $domain: String) {
  jobsChanged(filter: $filter, domainId: $domain) { kind jobId job { status remainedTasks filter } }
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    log = tempfile.TemporaryFile()
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def commands(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("gateway_mongodb_commands_total{")
    )


@dataclass
class Level:
    subscribers: int
    expected: int
    delivered: int
    p50_ms: float
    p99_ms: float
    cpu_us_per_event: float
    commands_per_s: float
    rss_kib_per_subscription: float


def matches(flt: dict[str, Any] | None, job: dict[str, Any]) -> bool:
    """Only to count the events expected (the gateway asks the database)."""
    if flt is None:
        return True
    if "status" in flt:
        return bool(job["status"] == "IN_PROGRESS")
    if "remainedTasks" in flt:
        return bool(job["remained_tasks"] < 5)
    return bool(job["status"] != "SUCCESS")


def client_process(ws_url: str, plan: list[tuple[int, str, Any]], pipe: Connection) -> None:
    """One client process: subscribes its share of the plan, reports ready, reads from "go"
    for the given seconds, then sends back the latencies it measured."""
    asyncio.run(_client(ws_url, plan, pipe))


async def _client(ws_url: str, plan: list[tuple[int, str, Any]], pipe: Connection) -> None:
    sockets = []
    for start_at in range(0, len(plan), PER_CONNECTION):
        ws = await websockets.connect(ws_url, subprotocols=["graphql-transport-ws"], max_queue=None)
        await ws.send(orjson.dumps({"type": "connection_init"}).decode())
        await ws.recv()
        for n, domain, flt in plan[start_at : start_at + PER_CONNECTION]:
            payload = {"query": QUERY, "variables": {"filter": flt, "domain": domain}}
            await ws.send(orjson.dumps({"id": str(n), "type": "subscribe", "payload": payload}).decode())
        sockets.append(ws)
    pipe.send("ready")
    loop = asyncio.get_running_loop()
    seconds = await loop.run_in_executor(None, pipe.recv)
    latencies: list[float] = []

    async def reader(ws: Any) -> None:
        async for raw in ws:
            message = orjson.loads(raw)
            if message.get("type") == "next":
                job = message["payload"]["data"]["jobsChanged"]["job"]
                if job and isinstance(job.get("filter"), dict) and "sent" in job["filter"]:
                    latencies.append(time.time() - job["filter"]["sent"])

    readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    await asyncio.sleep(seconds)
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()
    pipe.send(latencies)


async def run_level(
    url: str, mongo_uri: str, pid: int, subscribers: int, rate: float, seconds: float, clients: int
) -> Level:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    plan = [
        (DOMAINS[n % len(DOMAINS)], FILTERS[(n // len(DOMAINS)) % len(FILTERS)]) for n in range(subscribers)
    ]
    rss_before = rss_mib(pid)
    # whole connections per client process, spread evenly
    connections = [
        list(range(s, min(subscribers, s + PER_CONNECTION))) for s in range(0, subscribers, PER_CONNECTION)
    ]
    shares: list[list[tuple[int, str, Any]]] = [[] for _ in range(min(clients, len(connections)))]
    for index, connection in enumerate(connections):
        shares[index % len(shares)].extend((n, *plan[n]) for n in connection)
    context = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    for share in shares:
        parent, child = context.Pipe()
        process = context.Process(target=client_process, args=(ws_url, share, child), daemon=True)
        process.start()
        pipes.append(parent)
        processes.append(process)
    for pipe in pipes:
        assert pipe.recv() == "ready"
    await asyncio.sleep(2.0)
    rss_after = rss_mib(pid)
    for pipe in pipes:
        pipe.send(seconds + 3.0)
    writer = MongoClient(mongo_uri)["power-scheduler"]["job"]
    rng = random.Random(subscribers)
    expected = 0
    cpu0, commands0, started = cpu_seconds(pid), commands(url), time.monotonic()
    count = int(rate * seconds)
    for index in range(count):
        domain = rng.choice(DOMAINS)
        job = {
            "_id": ObjectId(),
            "job_id": f"job-{index:012x}",
            "domain_id": domain,
            "status": rng.choice(("IN_PROGRESS", "SUCCESS", "ERROR")),
            "remained_tasks": rng.randint(0, 9),
            "total_tasks": 10,
            "errors": [],
            "filters": {"sent": time.time()},
            "created_at": None,
            "updated_at": None,
        }
        writer.insert_one(job)
        expected += sum(1 for d, f in plan if d == domain and matches(f, job))
        delay = started + (index + 1) / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.sleep(max(0.0, started + seconds + 3.0 - time.monotonic()))  # the last events
    elapsed = time.monotonic() - started
    cpu, spent = cpu_seconds(pid) - cpu0, commands(url) - commands0
    latencies = [latency for pipe in pipes for latency in pipe.recv()]
    for process in processes:
        process.join(timeout=30)
    await asyncio.sleep(1.0)
    ordered = sorted(latencies) or [0.0]
    return Level(
        subscribers,
        expected,
        len(latencies),
        round(statistics.median(ordered) * 1000, 1),
        round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        round(cpu / max(1, len(latencies)) * 1e6, 1),
        round(spent / elapsed, 1),
        round((rss_after - rss_before) * 1024 / max(1, subscribers), 1),
    )


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.live", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--rate", type=float, default=50.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of writes per level")
    parser.add_argument("--clients", type=int, default=3, help="client processes (whole connections each)")
    args = parser.parse_args(argv)
    binary = shutil.which("secantusd-py") or str(Path(sys.executable).with_name("secantusd-py"))
    mongo_port, gateway_port = free_port(), free_port()
    database = start([binary, "--host", "127.0.0.1", "--port", str(mongo_port), "--storage-path", ":memory:"])
    mongo_uri = f"mongodb://127.0.0.1:{mongo_port}/"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")} | {
        "GATEWAY_MONGODB_URI": mongo_uri,
        "GATEWAY_PORT": str(gateway_port),
        "GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION": str(PER_CONNECTION),
        "GATEWAY_LIVE_BUFFER_EVENTS": "4096",
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    time.sleep(1.5)
    gateway = start([sys.executable, "-m", "gateway"], env)
    url = f"http://127.0.0.1:{gateway_port}"
    try:
        wait_http(f"{url}/readyz")
        print(
            f"{'subs':>6} {'expected':>9} {'delivered':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'CPU µs/event':>13} {'commands/s':>11} {'RSS KiB/sub':>12}"
        )
        for subscribers in args.subscribers:
            level = await run_level(
                url, mongo_uri, gateway.pid, subscribers, args.rate, args.seconds, args.clients
            )
            print(
                f"{level.subscribers:>6} {level.expected:>9} {level.delivered:>9} "
                f"{level.p50_ms:>8} {level.p99_ms:>8} {level.cpu_us_per_event:>13} "
                f"{level.commands_per_s:>11} {level.rss_kib_per_subscription:>12}",
                flush=True,
            )
    finally:
        for process in (gateway, database):
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
