"""Mainstream GraphQL clients with their default settings against a real gateway process on
the demo data: Apollo Client's InMemoryCache and urql's Graphcache normalise jobs and
controllers by their global id, Apollo's BatchHttpLink batches, and relay-compiler compiles
Relay queries and fragments against the committed schema. Expected values are computed here
from the demo data."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.demo import DEMO_DOMAINS, generate_demo_data
from tests.examples.node_packages import compile_relay, ensure_node_packages, run
from tests.live import LiveGateway

SCHEMA = Path(__file__).parents[2] / "schema" / "schema.graphql"
DOMAIN = DEMO_DOMAINS[1]
FIRST = 10


@pytest.fixture(scope="module")
def examples() -> Path:
    return ensure_node_packages()


@pytest.fixture(scope="module")
def batching_gateway() -> Iterator[LiveGateway]:
    """``python -m gateway`` on the demo data with batches allowed."""
    gateway = LiveGateway.start(GATEWAY_MAX_BATCH_SIZE="10")
    yield gateway
    gateway.stop()


def global_id(type_name: str, domain: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{domain}:{key}".encode()).decode().rstrip("=")


def demo_data(gateway: LiveGateway) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    jobs, controllers = generate_demo_data(
        gateway.settings.demo_seed, gateway.settings.demo_jobs, datetime.now(UTC)
    )
    return jobs, controllers


def newest_own(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    own = [job for job in jobs if job["domain_id"] == DOMAIN]
    return sorted(own, key=lambda job: (job["created_at"], job["_id"]), reverse=True)


DEVELOPMENT = "--conditions=development"
"""Node.js resolves Apollo Client to its development build, the one that prints warnings (a
bundler's dev server does the same)."""


def node_json(examples: Path, script: str, *args: str) -> dict[str, Any]:
    result = run(["node", DEVELOPMENT, str(examples / "checks" / script), *args])
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_apollo_and_urql_normalise_jobs_and_controllers_with_their_defaults(
    examples: Path, batching_gateway: LiveGateway
) -> None:
    jobs, controllers = demo_data(batching_gateway)
    newest = newest_own(jobs)[:FIRST]
    live = {controller["_id"] for controller in controllers}
    job_ids = [job["job_id"] for job in newest]

    report = node_json(examples, "normalised-caches.mjs", f"{batching_gateway.url}/graphql", DOMAIN, str(FIRST))

    assert report["printed"] == []  # no warning and no error from either library
    apollo = report["apollo"]
    assert apollo["pageJobIds"] == job_ids and sorted(apollo["listingJobIds"]) == sorted(job_ids)
    # one entry per job and per controller, shared by both queries
    assert apollo["entries"] == {
        "jobs": len(newest),
        "controllers": len({job["controller"] for job in newest if job["controller"] in live}),
    }
    assert apollo["sharedEntries"] == len(newest)
    assert apollo["identified"] is True
    first = next(job for job in newest if job["job_id"] == apollo["listingJobIds"][0])
    assert apollo["merged"] == {
        "__typename": "Job",
        "jobId": first["job_id"],
        "status": first["status"],
        "totalTasks": first["total_tasks"],
    }
    urql = report["urql"]
    assert urql["pageJobIds"] == urql["byIdJobIds"] == job_ids
    # the page read again from the cache alone, with a field only the second query asked for
    assert urql["mergedOutcome"] == "hit"
    assert urql["merged"] == [
        {"jobId": job["job_id"], "totalTasks": job["total_tasks"], "remainedTasks": job["remained_tasks"]}
        for job in newest
    ]


def test_apollo_batch_http_link_sends_one_request_and_gets_each_answer(
    examples: Path, batching_gateway: LiveGateway
) -> None:
    jobs, _ = demo_data(batching_gateway)
    own = newest_own(jobs)

    report = node_json(examples, "batch-http-link.mjs", f"{batching_gateway.url}/graphql", DOMAIN)

    assert report == {
        "httpRequests": 1,
        "operationsPerRequest": [4],
        "errorCount": sum(1 for job in own if job["status"] == "ERROR"),
        "successCount": sum(1 for job in own if job["status"] == "SUCCESS"),
        "newest": {
            "__typename": "Job",
            "id": global_id("Job", DOMAIN, own[0]["job_id"]),
            "jobId": own[0]["job_id"],
        },
        "malformed": {"codes": ["BAD_USER_INPUT"]},
        "printed": [],
    }


RELAY_ARTIFACTS = {
    "ControllerBadge_controller",
    "JobRow_job",
    "JobRowRefetchQuery",
    "JobsList_query",
    "JobsListPaginationQuery",
    "JobsListQuery",
    "JobDetailsQuery",
    "JobDetailsBatchQuery",
    "JobDetailsFailedBackwardsQuery",
}


def test_relay_compiler_compiles_connections_and_refetchable_fragments(examples: Path, tmp_path: Path) -> None:
    status, output = compile_relay(examples, tmp_path, SCHEMA.read_text())
    assert status == 0, output
    generated = tmp_path / "__generated__"
    assert {path.name.removesuffix(".graphql.js") for path in generated.iterdir()} == RELAY_ARTIFACTS
    refetch = (generated / "JobRowRefetchQuery.graphql.js").read_text()
    assert "node(id: $id)" in refetch
    pagination = (generated / "JobsList_query.graphql.js").read_text()
    assert '"name": "__JobsList_jobsConnection_connection"' in pagination
    assert '"direction": "forward"' in pagination


def test_relay_compiler_refuses_the_same_documents_without_node(examples: Path, tmp_path: Path) -> None:
    """The control: without Job implementing Node, @refetchable on Job cannot compile."""
    without_node = SCHEMA.read_text().replace("type Job implements Node {", "type Job {", 1)
    assert without_node != SCHEMA.read_text()
    status, output = compile_relay(examples, tmp_path, without_node)
    assert status != 0
    assert "Job" in output
