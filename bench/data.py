"""The documents every benchmark reads: the demo generator's jobs, from a fixed seed and date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.demo import DEMO_DOMAINS, generate_demo_data

DOMAIN = DEMO_DOMAINS[0]
JOB_COUNT = 4_000  # about 1,330 in DOMAIN: enough for the 1,000-job page
SEED = 2020
NOW = datetime(2026, 1, 1)


@dataclass(frozen=True, slots=True)
class Dataset:
    jobs: list[dict[str, Any]]
    controllers: list[dict[str, Any]]

    def sample_job_id(self) -> str:
        """A job of DOMAIN with errors and a live controller (the richest single document)."""
        live = {c["_id"] for c in self.controllers}
        for job in reversed(self.jobs):
            if job["domain_id"] == DOMAIN and job["errors"] and job["controller"] in live:
                return str(job["job_id"])
        raise LookupError("no job with errors and a controller in the benchmark data")


def dataset() -> Dataset:
    jobs, controllers = generate_demo_data(SEED, JOB_COUNT, NOW)
    return Dataset(jobs, controllers)
