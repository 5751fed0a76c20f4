"""The client examples in examples/ run as written against ``python -m gateway`` on the demo
data, and what they print matches the demo jobs counted here in plain Python."""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.demo import DEMO_DOMAINS
from tests.examples.node_packages import ensure_node_packages
from tests.live import LiveGateway

EXAMPLES = Path(__file__).parents[2] / "examples"
PYTHON_EXAMPLE = EXAMPLES / "python" / "jobs_bff.py"
DOMAIN = DEMO_DOMAINS[1]
PAGE_SIZE = 40


def expected_card(gateway: LiveGateway, domain: str, page_size: int) -> dict[str, Any]:
    failed = [job for job in gateway.demo_jobs() if job["domain_id"] == domain and job["status"] == "ERROR"]
    # jobsConnection's default order: newest first, `_id` (descending too) breaking ties.
    failed.sort(key=lambda job: (job["created_at"], job["_id"]), reverse=True)
    codes = Counter(error["error_code"] for job in failed for error in job["errors"])
    return {
        "domainId": domain,
        "failedJobs": len(failed),
        "pagesRead": math.ceil(len(failed) / page_size),
        "newest": [job["job_id"] for job in failed[:3]],
        "errorsByCode": dict(sorted(codes.items())),
    }


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def newest_first(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """jobsConnection's default order: newest first, `_id` (descending too) breaking ties."""
    return sorted(jobs, key=lambda job: (job["created_at"], job["_id"]), reverse=True)


def _check_card(result: subprocess.CompletedProcess[str], gateway: LiveGateway) -> None:
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    rejected = card.pop("rejectedExample")
    assert card == expected_card(gateway, DOMAIN, PAGE_SIZE)
    assert card["pagesRead"] > 1  # the example really pages
    assert rejected["code"] == "BAD_USER_INPUT"
    assert rejected["spaceoneCode"] == "ERROR_OPERATOR_LIST_VALUE_TYPE"
    assert "list" in rejected["message"]


def test_the_python_bff_example_pages_through_failed_jobs(demo_gateway: LiveGateway) -> None:
    result = _run(
        [
            sys.executable,
            str(PYTHON_EXAMPLE),
            "--url",
            f"{demo_gateway.url}/graphql",
            "--domain",
            DOMAIN,
            "--page-size",
            str(PAGE_SIZE),
        ]
    )
    _check_card(result, demo_gateway)


def test_the_python_bff_example_reports_a_refused_request(demo_gateway: LiveGateway) -> None:
    result = _run([sys.executable, str(PYTHON_EXAMPLE), "--url", f"{demo_gateway.url}/graphql"])
    assert result.returncode == 1
    assert "BAD_USER_INPUT: domainId is required" in result.stderr


@pytest.fixture(scope="module")
def node_example() -> Path:
    return ensure_node_packages() / "failed-jobs.mjs"


@pytest.fixture(scope="module")
def apollo_example() -> Path:
    return ensure_node_packages() / "apollo-jobs.mjs"


def test_the_javascript_example_pages_through_failed_jobs(
    node_example: Path, demo_gateway: LiveGateway
) -> None:
    result = _run(["node", str(node_example), f"{demo_gateway.url}/graphql", DOMAIN, str(PAGE_SIZE)])
    _check_card(result, demo_gateway)


def test_the_javascript_example_reports_a_refused_request(
    node_example: Path, demo_gateway: LiveGateway
) -> None:
    result = _run(["node", str(node_example), f"{demo_gateway.url}/graphql"])
    assert result.returncode == 1
    assert "BAD_USER_INPUT: domainId is required" in result.stderr


def test_the_apollo_example_lists_pages_refetches_and_reads_an_error_code(
    apollo_example: Path, demo_gateway: LiveGateway
) -> None:
    # Apollo's development build (the one that warns): its warnings go to stderr
    result = _run(
        [
            "node",
            "--conditions=development",
            str(apollo_example),
            f"{demo_gateway.url}/graphql",
            DOMAIN,
            str(PAGE_SIZE),
        ]
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    card = json.loads(result.stdout)
    rejected = card.pop("rejectedExample")

    own = newest_first([job for job in demo_gateway.demo_jobs() if job["domain_id"] == DOMAIN])
    failed = [job for job in own if job["status"] == "ERROR"]
    codes = Counter(error["error_code"] for job in failed for error in job["errors"])
    newest = own[:5]
    cached = {job["job_id"] for job in [*newest, *failed]}
    global_id = base64.urlsafe_b64encode(f"Job:{DOMAIN}:{newest[0]['job_id']}".encode()).decode().rstrip("=")
    assert (
        card
        == {
            "domainId": DOMAIN,
            "totalJobs": len(own),
            "newest": [job["job_id"] for job in newest],
            "failedJobs": len(failed),
            "failedJobsRead": len(failed),  # every page merged into one list by relayStylePagination
            "pagesRead": math.ceil(len(failed) / PAGE_SIZE),
            "newestFailed": [job["job_id"] for job in failed[:3]],
            "errorsByCode": dict(sorted(codes.items())),
            "refetched": {
                "jobId": newest[0]["job_id"],
                "status": newest[0]["status"],
                "cacheId": f"Job:{global_id}",
                "sameEntry": True,
            },
            # one entry per job, whichever query read it; the refetch updates the same entry
            "jobEntries": {"beforeRefetch": len(cached), "afterRefetch": len(cached)},
        }
    )
    assert card["pagesRead"] > 1
    assert rejected["code"] == "BAD_USER_INPUT"
    assert rejected["spaceoneCode"] == "ERROR_OPERATOR_LIST_VALUE_TYPE"
    assert "list" in rejected["message"]


@pytest.fixture(scope="module")
def simulated_demo() -> Iterator[LiveGateway]:
    """The demo with its live simulator on, polled often."""
    gateway = LiveGateway.start(
        GATEWAY_DEMO_LIVE="true", GATEWAY_LIVE_POLL_SECONDS="0.2", GATEWAY_DEMO_JOBS="300"
    )
    yield gateway
    gateway.stop()


def test_the_javascript_live_example_follows_changes_over_websocket_and_sse(
    node_example: Path, simulated_demo: LiveGateway
) -> None:
    domain = DEMO_DOMAINS[0]
    result = _run(
        ["node", str(node_example.with_name("live-jobs.mjs")), f"{simulated_demo.url}/graphql", domain, "2"]
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(Counter(event["transport"] for event in events).items()) == [
        ("graphql-sse", 2),
        ("graphql-ws", 2),
    ]
    for event in events:
        assert event["kind"] in ("CREATED", "UPDATED")
        assert event["job"]["domainId"] == domain and event["job"]["jobId"] == event["jobId"]
