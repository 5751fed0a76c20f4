"""The requests measured: each a GraphQL document for the gateway and the baseline URL that
returns the same JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bench.data import DOMAIN, Dataset
from gateway.mongo.pagination import CursorCodec, position_of
from gateway.settings import DEVELOPMENT_CURSOR_SECRET

SCALARS = (
    "jobId status filter totalTasks remainedTasks scheduleId projectId domainId createdAt updatedAt finishedAt"
)
NESTED = (
    f"{SCALARS} errors {{ errorCode message additional }} "
    "controllerInfo { controllerId name provider pluginInfo { pluginId version } createdAt }"
)
JOBS = "query Jobs($domainId: String!, $limit: Int!) { jobs(domainId: $domainId, query: {page: {limit: $limit}}) { %s } }"  # noqa: E501
JOB = "query Job($domainId: String!, $jobId: ID!) { job(domainId: $domainId, jobId: $jobId) { %s } }"
STATS_BY_STATUS = (
    "query Stats($domainId: String!) { jobStats(domainId: $domainId, query: {aggregate: ["
    '{group: {keys: [{key: "status", name: "status"}], fields: [{name: "count", operator: COUNT}]}}, '
    '{sort: {key: "count", desc: true}}]}) { results totalCount } }'
)
DEEP_PAGE = (
    "query Deep($domainId: String!, $first: Int!, $after: String!) { jobsConnection("
    "domainId: $domainId, first: $first, after: $after) { nodes { %s } "
    "pageInfo { hasNextPage endCursor } } }"
) % SCALARS
DEEP_PAGE_START = 1000  # the page starts after this many jobs of the default order


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    query: str
    variables: dict[str, Any]
    baseline_path: str
    page_size: int = 1

    def graphql_body(self) -> bytes:
        return json.dumps({"query": self.query, "variables": self.variables}).encode()


def _page(
    name: str, limit: int, selection: str, *, nested: bool, count: bool, results: bool = True
) -> Scenario:
    params = {
        "domain_id": DOMAIN,
        "limit": limit,
        "nested": int(nested),
        "count": int(count),
        "results": int(results),
    }
    return Scenario(
        name=name,
        query=JOBS % selection,
        variables={"domainId": DOMAIN, "limit": limit},
        baseline_path="/jobs?" + urlencode(params),
        page_size=limit if results else 0,
    )


def scenarios(data: Dataset) -> list[Scenario]:
    job_id = data.sample_job_id()
    found: list[Scenario] = []
    for size in (20, 100, 1000):
        found.append(_page(f"jobs {size} scalars", size, f"results {{ {SCALARS} }}", nested=False, count=False))
    for size in (20, 100, 1000):
        found.append(
            _page(f"jobs {size} +errors +controller", size, f"results {{ {NESTED} }}", nested=True, count=False)
        )
    found.append(
        _page(
            "jobs 100 scalars +totalCount", 100, f"totalCount results {{ {SCALARS} }}", nested=False, count=True
        )
    )
    found.append(_page("jobs totalCount only", 100, "totalCount", nested=False, count=True, results=False))
    found.append(
        Scenario(
            name="job by id",
            query=JOB % NESTED,
            variables={"domainId": DOMAIN, "jobId": job_id},
            baseline_path="/job?" + urlencode({"domain_id": DOMAIN, "job_id": job_id}),
        )
    )
    found.append(
        Scenario(
            name="jobStats by status",
            query=STATS_BY_STATUS,
            variables={"domainId": DOMAIN},
            baseline_path="/stats/status?" + urlencode({"domain_id": DOMAIN}),
        )
    )
    after = deep_cursor(data)
    found.append(
        Scenario(
            name="jobsConnection 100 after 1000",
            query=DEEP_PAGE,
            variables={"domainId": DOMAIN, "first": 100, "after": after},
            baseline_path="/jobs/after?" + urlencode({"domain_id": DOMAIN, "first": 100, "after": after}),
            page_size=100,
        )
    )
    return found


def deep_cursor(data: Dataset) -> str:
    """The cursor of DOMAIN's job number DEEP_PAGE_START in the default order (newest first),
    signed with the key the benchmark servers use."""
    order = [("created_at", -1), ("_id", -1)]
    jobs = sorted(
        (job for job in data.jobs if job["domain_id"] == DOMAIN),
        key=lambda job: (job["created_at"], job["_id"]),
        reverse=True,
    )
    last_skipped = jobs[DEEP_PAGE_START - 1]
    return CursorCodec(DEVELOPMENT_CURSOR_SECRET).encode(order, position_of(last_skipped, order))
