"""Plain functions that build stored job and controller documents for tests."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

BASE_TIME = datetime(2026, 9, 1, 12, 0, 0)
STATUSES = ("CREATED", "CANCELED", "IN_PROGRESS", "SUCCESS", "ERROR", "TIMEOUT")
_counter = itertools.count(1)


def controller(domain_id: str, **overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    document = {
        "_id": ObjectId(),
        "controller_id": f"controller-{n:012x}",
        "name": f"controller {n}",
        "provider": "aws" if n % 2 else "azure",
        "capability": {"supported_schedule": ["stop", "start"]},
        "plugin_info": {
            "plugin_id": f"plugin-{n}",
            "version": f"1.{n}",
            "options": {"dry_run": False},
            "provider": "aws",
            "metadata": {},
        },
        "tags": {"team": "sre" if n % 3 else "finops"},
        "domain_id": domain_id,
        "created_at": BASE_TIME - timedelta(days=n),
    }
    document.update(overrides)
    return document


def job(domain_id: str, **overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    created = BASE_TIME + timedelta(minutes=n)
    document: dict[str, Any] = {
        "_id": ObjectId(),
        "job_id": f"job-{n:012x}",
        "status": "CREATED",
        "filters": {"region": "us-east-1"},
        "total_tasks": 10,
        "remained_tasks": 10,
        "errors": [],
        "controller": None,
        "schedule_id": "schedule-1",
        "project_id": "project-1",
        "domain_id": domain_id,
        "created_at": created,
        "updated_at": created,
        "finished_at": None,
        "mark_error": 0,
    }
    document.update(overrides)
    return document


def error(code: str, message: str = "failed", **additional: Any) -> dict[str, Any]:
    return {"error_code": code, "message": message, "additional": additional}


def dataset(
    seed: int, domains: tuple[str, ...], jobs_per_domain: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A varied, reproducible mix of jobs and controllers across domains (some controllers gone)."""
    rng = random.Random(seed)
    controllers = [controller(d) for d in domains for _ in range(3)]
    jobs = []
    for domain in domains:
        own = [c["_id"] for c in controllers if c["domain_id"] == domain]
        for i in range(jobs_per_domain):
            status = rng.choice(STATUSES)
            created = BASE_TIME + timedelta(hours=rng.randint(0, 24 * 30), minutes=rng.randint(0, 59))
            finished = status in ("SUCCESS", "ERROR", "TIMEOUT", "CANCELED")
            total = rng.randint(0, 30)
            document = job(
                domain,
                status=status,
                total_tasks=total,
                remained_tasks=rng.randint(0, total),
                filters={
                    "region": rng.choice(["us-east-1", "eu-west-1", "ap-northeast-2"]),
                    "size": rng.randint(1, 5),
                },
                errors=[
                    error(
                        rng.choice(["E_NOT_FOUND", "E_DENIED", "E_BUSY"]),
                        f"resource r-{rng.randint(1, 9)} failed",
                        attempt=rng.randint(1, 3),
                    )
                    for _ in range(rng.randint(1, 3))
                ]
                if status in ("ERROR", "TIMEOUT")
                else [],
                controller=rng.choice([*own, None, ObjectId()]),
                schedule_id=rng.choice(["schedule-a", "schedule-b", None]),
                project_id=rng.choice(["project-x", "project-y"]),
                created_at=created,
                updated_at=created + timedelta(minutes=rng.randint(0, 90)),
                finished_at=created + timedelta(minutes=rng.randint(1, 90)) if finished else None,
            )
            if i % 17 == 0:  # an older document written before the `filters` rename
                document["filter"] = document.pop("filters")
            elif i % 23 == 0:  # a job created without any filter
                del document["filters"]
            jobs.append(document)
    return jobs, controllers


def iso(value: datetime | None) -> str | None:
    """How the gateway writes a stored (naive UTC) date."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
