"""The requests measured: each a GraphQL document for the gateway and the baseline URL that
returns the same JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.data import DOMAIN, Dataset

SCALARS = (
    "jobId status filter totalTasks remainedTasks scheduleId projectId domainId "
    "createdAt updatedAt finishedAt"
)
NESTED = (
    f"{SCALARS} errors {{ errorCode message additional }} "
    "controllerInfo { controllerId name provider pluginInfo { pluginId version } createdAt }"
)
JOBS = "query Jobs($domainId: String!, $limit: Int!) { jobs(domainId: $domainId, query: {page: {limit: $limit}}) { %s } }"  # noqa: E501
JOB = "query Job($domainId: String!, $jobId: ID!) { job(domainId: $domainId, jobId: $jobId) { %s } }"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    query: str
    variables: dict[str, Any]
    baseline_path: str
    page_size: int = 1
    requires: str = ""  # a root field that must exist in the schema (else the scenario is skipped)
    tags: frozenset[str] = field(default_factory=frozenset)

    def graphql_body(self) -> bytes:
        return json.dumps({"query": self.query, "variables": self.variables}).encode()


def _page(name: str, limit: int, selection: str, *, nested: bool, count: bool,
          results: bool = True) -> Scenario:
    params = {"domain_id": DOMAIN, "limit": limit, "nested": int(nested), "count": int(count),
              "results": int(results)}
    return Scenario(
        name=name,
        query=JOBS % selection,
        variables={"domainId": DOMAIN, "limit": limit},
        baseline_path="/jobs?" + urlencode(params),
        page_size=limit if results else 0,
        tags=frozenset({"nested"} if nested else {"scalars"}),
    )


def scenarios(data: Dataset) -> list[Scenario]:
    job_id = data.sample_job_id()
    found: list[Scenario] = []
    for size in (20, 100, 1000):
        found.append(_page(f"jobs {size} scalars", size, f"results {{ {SCALARS} }}",
                           nested=False, count=False))
    for size in (20, 100, 1000):
        found.append(_page(f"jobs {size} +errors +controller", size, f"results {{ {NESTED} }}",
                           nested=True, count=False))
    found.append(_page("jobs 100 scalars +totalCount", 100,
                       f"totalCount results {{ {SCALARS} }}", nested=False, count=True))
    found.append(_page("jobs totalCount only", 100, "totalCount",
                       nested=False, count=True, results=False))
    found.append(Scenario(
        name="job by id",
        query=JOB % NESTED,
        variables={"domainId": DOMAIN, "jobId": job_id},
        baseline_path="/job?" + urlencode({"domain_id": DOMAIN, "job_id": job_id}),
    ))
    found.append(Scenario(
        name="jobStats by status", query="", variables={}, baseline_path="", requires="jobStats"))
    found.append(Scenario(
        name="jobsConnection deep page", query="", variables={}, baseline_path="",
        requires="jobsConnection"))
    return found
