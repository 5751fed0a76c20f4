"""The indexes that make the common listings fast, as advice: the gateway never creates them
(it never writes); ``python -m gateway indexes`` prints the ``createIndex`` commands.

Every listing is scoped to one domain, so ``domain_id`` leads every index. A connection order
ends with ``_id`` in the direction of its last key, so one index ``(domain_id, field, _id)``
serves a field in both directions and both ways of paging.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gateway.mongo.repository import CONTROLLER_COLLECTION, JOB_COLLECTION

CONNECTION_ORDER_PATHS = (
    "created_at",
    "updated_at",
    "finished_at",
    "status",
    "total_tasks",
    "remained_tasks",
    "job_id",
)


@dataclass(frozen=True, slots=True)
class IndexAdvice:
    collection: str
    keys: tuple[tuple[str, int], ...]
    why: str
    unique: bool = False

    @property
    def name(self) -> str:
        return "_".join(f"{path}_{direction}" for path, direction in self.keys)

    def create_command(self) -> str:
        """The mongosh command that creates this index."""
        keys = json.dumps(dict(self.keys), separators=(", ", ": "))
        options = {"name": self.name, **({"unique": True} if self.unique else {})}
        return f"db.{self.collection}.createIndex({keys}, {json.dumps(options)})"


ADVICE: tuple[IndexAdvice, ...] = (
    *(
        IndexAdvice(
            JOB_COLLECTION,
            (("domain_id", 1), (path, 1), ("_id", 1)),
            f"jobsConnection ordered by {path} (either direction)",
        )
        for path in CONNECTION_ORDER_PATHS
    ),
    IndexAdvice(
        JOB_COLLECTION,
        (("domain_id", 1), ("created_at", -1), ("_id", 1)),
        "jobs (SpaceONE listing): default order created_at descending, _id ascending",
    ),
    IndexAdvice(
        JOB_COLLECTION,
        (("domain_id", 1), ("status", 1), ("created_at", 1), ("_id", 1)),
        "jobsConnection with a status filter, ordered by created_at (either direction)",
    ),
    IndexAdvice(JOB_COLLECTION, (("domain_id", 1), ("job_id", 1)), "job(jobId) and jobId filters", unique=True),
    IndexAdvice(
        JOB_COLLECTION,
        (("domain_id", 1), ("schedule_id", 1), ("created_at", 1)),
        "jobs of one schedule, newest or oldest first",
    ),
    IndexAdvice(JOB_COLLECTION, (("domain_id", 1), ("errors.error_code", 1)), "errorCode filters (multikey)"),
    IndexAdvice(
        CONTROLLER_COLLECTION,
        (("domain_id", 1), ("controller_id", 1)),
        "controllerId filters (the controller sub-query)",
    ),
)


def index_script() -> str:
    """Every advised index as a commented mongosh script."""
    lines = ["// Indexes advised by jobs-gateway: run with mongosh on the power-scheduler database."]
    for advice in ADVICE:
        lines.append(f"// {advice.why}")
        lines.append(advice.create_command())
    return "\n".join(lines) + "\n"
