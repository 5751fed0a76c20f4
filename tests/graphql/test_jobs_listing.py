"""`jobs` and `job` on both back ends: sorting, paging, counting, convenience arguments, the
shape of every field, and tenant scoping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId

from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, Backend, seed
from tests.factories import iso
from tests.search_checks import newest_first

JOBS, CONTROLLERS = factories.dataset(3, (DOMAIN, OTHER_DOMAIN), 60)
OWN = [d for d in JOBS if d["domain_id"] == DOMAIN]

PAGE = (
    """
query Page($query: SearchQuery, $status: JobStatus, $project: String, $schedule: String, $job: String) {
  jobs(domainId: "%s", query: $query, status: $status, projectId: $project,
       scheduleId: $schedule, jobId: $job) {
    totalCount
    results { jobId }
  }
}
"""
    % DOMAIN
)

EVERY_FIELD = (
    """
query Every($query: SearchQuery) {
  jobs(domainId: "%s", query: $query) {
    totalCount
    results {
      jobId status filter totalTasks remainedTasks scheduleId projectId domainId
      createdAt updatedAt finishedAt
      errors { errorCode message additional }
      controllerInfo {
        controllerId name provider capability tags createdAt domainId
        pluginInfo { pluginId version options provider metadata }
      }
    }
  }
}
"""
    % DOMAIN
)


@pytest.fixture
async def seeded(backend: Backend) -> Backend:
    await seed(backend.db, JOBS, CONTROLLERS)
    return backend


def ids(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [r["jobId"] for r in body["data"]["jobs"]["results"]]


def null_first(value: Any) -> tuple[int, Any]:
    return (0, datetime.min) if value is None else (1, value)


async def test_default_order_is_newest_first_with_a_default_page(seeded: Backend) -> None:
    body = await seeded.client(PAGE)
    assert ids(body) == [d["job_id"] for d in newest_first(OWN)]
    assert body["data"]["jobs"]["totalCount"] == len(OWN)


async def test_sort_by_several_keys_with_the_id_tie_breaker(seeded: Backend) -> None:
    sort = {"keys": [{"key": "status"}, {"key": "total_tasks", "desc": True}]}
    body = await seeded.client(PAGE, {"query": {"sort": sort, "page": {"limit": 1000}}})
    by_id = sorted(OWN, key=lambda d: d["_id"])
    by_tasks = sorted(by_id, key=lambda d: d["total_tasks"], reverse=True)
    expected = sorted(by_tasks, key=lambda d: d["status"])
    assert ids(body) == [d["job_id"] for d in expected]


async def test_sort_by_a_nullable_date_puts_nulls_first_ascending(seeded: Backend) -> None:
    body = await seeded.client(PAGE, {"query": {"sort": {"key": "finishedAt"}}})
    expected = sorted(sorted(OWN, key=lambda d: d["_id"]), key=lambda d: null_first(d["finished_at"]))
    assert ids(body) == [d["job_id"] for d in expected]


async def test_paging_is_one_based_and_the_count_ignores_it(seeded: Backend) -> None:
    ordered = [d["job_id"] for d in newest_first(OWN)]
    body = await seeded.client(PAGE, {"query": {"page": {"start": 11, "limit": 7}}})
    assert ids(body) == ordered[10:17]
    assert body["data"]["jobs"]["totalCount"] == len(OWN)
    body = await seeded.client(PAGE, {"query": {"page": {"start": -3, "limit": 2}}})
    assert ids(body) == ordered[:2]


async def test_count_only_returns_no_results(seeded: Backend) -> None:
    body = await seeded.client(PAGE, {"query": {"countOnly": True}, "status": "ERROR"})
    assert ids(body) == []
    assert body["data"]["jobs"]["totalCount"] == sum(d["status"] == "ERROR" for d in OWN)


async def test_convenience_arguments_are_anded(seeded: Backend) -> None:
    body = await seeded.client(PAGE, {"status": "SUCCESS", "project": "project-x", "schedule": "schedule-a"})
    expected = [
        d
        for d in OWN
        if d["status"] == "SUCCESS" and d["project_id"] == "project-x" and d["schedule_id"] == "schedule-a"
    ]
    assert ids(body) == [d["job_id"] for d in newest_first(expected)]
    body = await seeded.client(PAGE, {"status": "NONE", "job": ""})
    assert body["data"]["jobs"]["totalCount"] == len(OWN)


async def test_every_field_is_mapped_from_the_stored_document(seeded: Backend) -> None:
    body = await seeded.client(EVERY_FIELD, {"query": {"page": {"limit": 1000}}})
    assert "errors" not in body, body
    controllers = {c["_id"]: c for c in CONTROLLERS}
    results = body["data"]["jobs"]["results"]
    assert len(results) == len(OWN)
    for doc, job in zip(newest_first(OWN), results, strict=True):
        stored_filter = doc.get("filters", doc.get("filter"))
        assert job["jobId"] == doc["job_id"] and job["status"] == doc["status"]
        assert job["filter"] == stored_filter
        assert (job["totalTasks"], job["remainedTasks"]) == (doc["total_tasks"], doc["remained_tasks"])
        assert (job["scheduleId"], job["projectId"], job["domainId"]) == (
            doc["schedule_id"],
            doc["project_id"],
            DOMAIN,
        )
        assert job["createdAt"] == iso(doc["created_at"]) and job["createdAt"].endswith("Z")
        assert job["updatedAt"] == iso(doc["updated_at"])
        assert job["finishedAt"] == iso(doc["finished_at"])
        assert job["errors"] == [
            {"errorCode": e["error_code"], "message": e["message"], "additional": e["additional"]}
            for e in doc["errors"]
        ]
        controller = controllers.get(doc["controller"])
        if controller is None or controller["domain_id"] != DOMAIN:
            assert job["controllerInfo"] is None
        else:
            info = job["controllerInfo"]
            assert info["controllerId"] == controller["controller_id"]
            assert info["pluginInfo"]["pluginId"] == controller["plugin_info"]["plugin_id"]
            assert info["tags"] == controller["tags"]
            assert info["createdAt"] == iso(controller["created_at"])


async def test_a_controller_of_another_domain_is_never_shown(seeded: Backend) -> None:
    foreign = next(c for c in CONTROLLERS if c["domain_id"] == OTHER_DOMAIN)
    job = factories.job(DOMAIN, controller=foreign["_id"])
    await seed(seeded.db, [job])
    body = await seeded.client(
        'query { job(jobId: "%s", domainId: "%s") { jobId controllerInfo { name } } }' % (job["job_id"], DOMAIN)
    )
    assert body == {"data": {"job": {"jobId": job["job_id"], "controllerInfo": None}}}


async def test_job_by_id_is_scoped_to_the_domain(seeded: Backend) -> None:
    own, foreign = OWN[5], next(d for d in JOBS if d["domain_id"] == OTHER_DOMAIN)
    query = 'query($id: ID!) { job(jobId: $id, domainId: "%s") { jobId status errors { errorCode } } }'
    body = await seeded.client(query % DOMAIN, {"id": own["job_id"]})
    assert body["data"]["job"] == {
        "jobId": own["job_id"],
        "status": own["status"],
        "errors": [{"errorCode": e["error_code"]} for e in own["errors"]],
    }
    body = await seeded.client(query % DOMAIN, {"id": foreign["job_id"]})
    assert body == {"data": {"job": None}}
    body = await seeded.client(query % DOMAIN, {"id": "job-missing"})
    assert body == {"data": {"job": None}}


async def test_other_domains_are_never_listed_or_counted(seeded: Backend) -> None:
    body = await seeded.client(PAGE, {"query": {"filter": [{"k": "domain_id", "v": OTHER_DOMAIN, "o": "EQ"}]}})
    assert body["data"]["jobs"] == {"totalCount": 0, "results": []}


async def test_a_stored_status_outside_the_enum_reads_as_none(seeded: Backend) -> None:
    odd = factories.job(DOMAIN, status="PAUSED", _id=ObjectId())
    await seed(seeded.db, [odd])
    body = await seeded.client('{ job(jobId: "%s", domainId: "%s") { status } }' % (odd["job_id"], DOMAIN))
    assert body == {"data": {"job": {"status": "NONE"}}}


async def test_fields_merged_from_several_nodes_read_everything_they_ask_for(seeded: Backend) -> None:
    """GraphQL merges same-named fields: each node's sub-selection must be read."""
    failed = newest_first([d for d in OWN if d["errors"]])[0]
    body = await seeded.client(
        """query($id: ID!) {
          job(jobId: $id, domainId: "%s") { jobId errors { errorCode } }
          job(jobId: $id, domainId: "%s") { status errors { message } }
        }"""
        % (DOMAIN, DOMAIN),
        {"id": failed["job_id"]},
    )
    assert body == {
        "data": {
            "job": {
                "jobId": failed["job_id"],
                "status": failed["status"],
                "errors": [{"errorCode": e["error_code"], "message": e["message"]} for e in failed["errors"]],
            }
        }
    }
    body = await seeded.client(
        '{ jobs(domainId: "%s") { results { jobId } } jobs(domainId: "%s") { results { totalTasks } } }'
        % (DOMAIN, DOMAIN)
    )
    assert body["data"]["jobs"]["results"] == [
        {"jobId": d["job_id"], "totalTasks": d["total_tasks"]} for d in newest_first(OWN)
    ]
