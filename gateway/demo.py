"""The embedded default: an in-memory database seeded with realistic power-scheduler data.

Served when ``GATEWAY_MONGODB_URI`` is unset and it was asked for (a loopback host, or
``GATEWAY_DEMO=true``; see ``Settings``), so the gateway runs with no MongoDB at all. The data
are generated from a fixed seed (``GATEWAY_DEMO_SEED``): the same jobs at every start, with dates
placed relative to the start time so that ``timediff`` filters such as ``now/d - 7d`` find some.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from mongomock_motor import AsyncMongoMockClient

from gateway.mongo.client import MongoHandle
from gateway.mongo.fields import FINISHED_STATUSES, JOB_STATUSES
from gateway.settings import Settings

DEMO_DOMAINS = ("domain-7f3a1c9e2b4d", "domain-2c8e5a1f9d3b", "domain-9b1d4e7a3c6f")
_STATUS_WEIGHTS = (4, 3, 6, 60, 17, 10)
_PROVIDERS = ("aws", "azure", "google_cloud", "openstack")
_ERROR_CODES = (
    ("ERROR_INSTANCE_NOT_FOUND", "instance {} was not found in the region"),
    ("ERROR_PERMISSION_DENIED", "the scheduler role may not stop {}"),
    ("ERROR_RESOURCE_BUSY", "{} is busy with another operation"),
    ("ERROR_PLUGIN_TIMEOUT", "the plugin did not answer in time while handling {}"),
)


def _hex(rng: random.Random, length: int = 12) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def _object_id(rng: random.Random, when: datetime) -> ObjectId:
    return ObjectId(int(when.timestamp()).to_bytes(4, "big") + rng.randbytes(8))


def generate_demo_data(
    seed: int, job_count: int, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(jobs, controllers) for the demo domains; deterministic for a given seed and ``now``."""
    rng = random.Random(seed)
    anchor = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    controllers: list[dict[str, Any]] = []
    per_domain: dict[str, list[ObjectId]] = {}
    for domain in DEMO_DOMAINS:
        for index, provider in enumerate(_PROVIDERS[: rng.randint(2, 4)]):
            created = anchor - timedelta(days=rng.randint(60, 400))
            controller_oid = _object_id(rng, created)
            controller = {
                "_id": controller_oid,
                "controller_id": f"controller-{_hex(rng)}",
                "name": f"{provider}-power-controller-{index + 1}",
                "provider": provider,
                "capability": {"supported_schedule": ["stop", "start"], "max_batch": 50},
                "plugin_info": {
                    "plugin_id": f"plugin-{provider}-power-scheduler",
                    "version": f"1.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
                    "options": {"region_filter": [], "dry_run": False},
                    "provider": provider,
                    "metadata": {"supported_resource_type": ["inventory.Server"]},
                },
                "tags": {"team": rng.choice(["platform", "finops", "sre"])},
                "domain_id": domain,
                "created_at": created,
            }
            controllers.append(controller)
            per_domain.setdefault(domain, []).append(controller_oid)
        per_domain[domain].append(_object_id(rng, anchor))  # a controller since deleted
    jobs = [_demo_job(rng, anchor, per_domain) for _ in range(job_count)]
    jobs.sort(key=lambda job: job["created_at"])
    return jobs, controllers


def _demo_job(rng: random.Random, anchor: datetime, controllers: dict[str, list[ObjectId]]) -> dict[str, Any]:
    domain = rng.choice(DEMO_DOMAINS)
    created = anchor - timedelta(minutes=rng.randint(0, 28 * 24 * 60))
    status = rng.choices(JOB_STATUSES, _STATUS_WEIGHTS)[0]
    total = rng.randint(1, 40)
    finished = status in FINISHED_STATUSES
    finished_at = created + timedelta(seconds=rng.randint(20, 3600)) if finished else None
    remained = 0 if status == "SUCCESS" else rng.randint(0, total)
    resources = [f"i-{_hex(rng, 17)}" for _ in range(3)]
    errors = (
        [
            {
                "error_code": code,
                "message": template.format(rng.choice(resources)),
                "additional": {"resource_id": rng.choice(resources), "attempt": rng.randint(1, 3)},
            }
            for code, template in rng.choices(_ERROR_CODES, k=rng.randint(1, 4))
        ]
        if status in ("ERROR", "TIMEOUT")
        else []
    )
    return {
        "_id": _object_id(rng, created),
        "job_id": f"job-{_hex(rng)}",
        "status": status,
        "filters": {
            "resource_type": "inventory.Server",
            "region_code": rng.choice(["ap-northeast-2", "us-east-1", "eu-west-1"]),
        },
        "total_tasks": total,
        "remained_tasks": remained,
        "errors": errors,
        "controller": rng.choice([*controllers[domain], None]),
        "schedule_id": f"schedule-{domain[-4:]}{rng.randint(1, 4):08x}",
        "project_id": f"project-{domain[-4:]}{rng.randint(1, 3):08x}",
        "domain_id": domain,
        "created_at": created,
        "updated_at": finished_at or created + timedelta(seconds=rng.randint(0, 600)),
        "finished_at": finished_at,
        "mark_error": 1 if errors else 0,
    }


def open_demo_database(settings: Settings) -> MongoHandle:
    """An in-memory Motor-compatible client seeded with the demo data (``embedded``: there is
    nothing to connect to)."""
    client: Any = AsyncMongoMockClient(tz_aware=False)
    database = client[settings.mongodb_database]
    jobs, controllers = generate_demo_data(settings.demo_seed, settings.demo_jobs, datetime.now(UTC))
    # Seed through the synchronous mongomock collections: no event loop is needed at start.
    sync_db = database.delegate if hasattr(database, "delegate") else database
    if jobs:
        sync_db["job"].insert_many(jobs)
    if controllers:
        sync_db["controller"].insert_many(controllers)
    return MongoHandle(client, database, embedded=True)


async def simulate(database: Any, seed: int, interval: float = 2.0) -> None:
    """Advance the demo's jobs forever (demo mode only): every ``interval`` seconds a new job
    appears or a running one counts ``remained_tasks`` down, finishing with SUCCESS or, now and
    then, ERROR with an error; so live subscriptions have something to show."""
    import asyncio

    rng = random.Random(seed + 1)
    jobs = database["job"]
    while True:
        await asyncio.sleep(interval)
        now = datetime.now(UTC).replace(tzinfo=None)
        running = await jobs.find({"status": "IN_PROGRESS"}, {"_id": 1, "remained_tasks": 1}).to_list(
            length=None
        )
        if not running or rng.random() < 0.2:
            template, _ = generate_demo_data(rng.randint(0, 1 << 30), 1, datetime.now(UTC))
            job = template[0] | {
                "status": "IN_PROGRESS",
                "errors": [],
                "mark_error": 0,
                "created_at": now,
                "updated_at": now,
                "finished_at": None,
            }
            job["remained_tasks"] = job["total_tasks"]
            await jobs.insert_one(job)
            continue
        job = rng.choice(running)
        remained = max(0, int(job.get("remained_tasks") or 0) - rng.randint(1, 3))
        change: dict[str, Any] = {"remained_tasks": remained, "updated_at": now}
        if rng.random() < 0.05:
            code, message = rng.choice(_ERROR_CODES)
            change |= {
                "status": "ERROR",
                "finished_at": now,
                "mark_error": 1,
                "errors": [{"error_code": code, "message": message.format("i-demo"), "additional": {}}],
            }
        elif remained == 0:
            change |= {"status": "SUCCESS", "finished_at": now}
        await jobs.update_one({"_id": job["_id"]}, {"$set": change})
