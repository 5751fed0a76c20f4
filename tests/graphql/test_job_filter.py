"""JobFilter answers compared with answers computed in plain Python (tests/reference.py), on the
in-process database and on the wire server, through ``jobsConnection``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gateway.settings import Settings
from tests.conftest import DOMAIN, OTHER_DOMAIN, GraphQLClient, client_for, seed
from tests.factories import dataset
from tests.reference import connection_order, job_matches

QUERY = """
query Filtered($filter: JobFilter) {
  jobsConnection(domainId: "@DOMAIN@", filter: $filter, first: 1000) {
    totalCount
    nodes { jobId }
  }
}
""".replace("@DOMAIN@", DOMAIN)


def _data() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    jobs, controllers = dataset(seed=44, domains=(DOMAIN, OTHER_DOMAIN), jobs_per_domain=90)
    foreign = next(c["_id"] for c in controllers if c["domain_id"] == OTHER_DOMAIN)
    own = [j for j in jobs if j["domain_id"] == DOMAIN]
    own[20]["project_id"] = "project-(x).*"
    for index, job in enumerate(own):
        if index % 11 == 3:  # absent rather than null
            job.pop("finished_at")
            job.pop("schedule_id")
        if index % 13 == 5:  # a controller of another domain: never visible from this one
            job["controller"] = foreign
    return jobs, controllers


JOBS, CONTROLLERS = _data()
OWN_JOBS = [j for j in JOBS if j["domain_id"] == DOMAIN]
OWN_CONTROLLERS = {c["_id"]: c for c in CONTROLLERS if c["domain_id"] == DOMAIN}
FOREIGN_CONTROLLER_ID = next(c["controller_id"] for c in CONTROLLERS if c["domain_id"] != DOMAIN)
A_JOB = OWN_JOBS[7]["job_id"]
A_CONTROLLER_ID = next(iter(OWN_CONTROLLERS.values()))["controller_id"]
MIDDLE = sorted(j["created_at"] for j in OWN_JOBS)[45].isoformat() + "Z"
EARLY_FINISH = sorted(j["finished_at"] for j in OWN_JOBS if j.get("finished_at"))[10]
EARLY = EARLY_FINISH.isoformat() + "+00:00"
SEOUL = (EARLY_FINISH + timedelta(hours=9)).isoformat() + "+09:00"

CASES: dict[str, dict[str, Any] | None] = {
    "no filter": None,
    "empty filter": {},
    "null fields are ignored": {"jobId": None, "status": {"eq": None, "in": None}, "or": None},
    "jobId eq": {"jobId": {"eq": A_JOB}},
    "jobId ne": {"jobId": {"ne": A_JOB}},
    "jobId in": {"jobId": {"in": [A_JOB, OWN_JOBS[9]["job_id"], "job-nope"]}},
    "jobId nin": {"jobId": {"nin": [A_JOB, OWN_JOBS[9]["job_id"]]}},
    "jobId contains, any case": {"jobId": {"contains": A_JOB[-3:].upper()}},
    "jobId startsWith": {"jobId": {"startsWith": A_JOB[:-1].upper()}},
    "regex characters are plain text": {"projectId": {"contains": "(X).*"}},
    "status eq": {"status": {"eq": "ERROR"}},
    "status ne": {"status": {"ne": "SUCCESS"}},
    "status in": {"status": {"in": ["CREATED", "TIMEOUT"]}},
    "status nin": {"status": {"nin": ["CREATED", "TIMEOUT", "SUCCESS"]}},
    "scheduleId eq": {"scheduleId": {"eq": "schedule-a"}},
    "scheduleId isNull": {"scheduleId": {"isNull": True}},
    "scheduleId not isNull": {"scheduleId": {"isNull": False}},
    "scheduleId exists": {"scheduleId": {"exists": True}},
    "scheduleId absent": {"scheduleId": {"exists": False}},
    "projectId ne": {"projectId": {"ne": "project-x"}},
    "totalTasks gt": {"totalTasks": {"gt": 12}},
    "totalTasks range": {"totalTasks": {"gte": 5, "lte": 20, "ne": 10}},
    "remainedTasks lt": {"remainedTasks": {"lt": 4}},
    "remainedTasks in": {"remainedTasks": {"in": [0, 1, 2]}},
    "totalTasks eq": {"totalTasks": {"eq": 7}},
    "createdAt gte": {"createdAt": {"gte": MIDDLE}},
    "createdAt lt": {"createdAt": {"lt": MIDDLE}},
    "finishedAt gt (nulls never match)": {"finishedAt": {"gt": EARLY}},
    "finishedAt lte, zone +09:00": {"finishedAt": {"lte": SEOUL}},
    "finishedAt eq": {"finishedAt": {"eq": EARLY}},
    "finishedAt isNull": {"finishedAt": {"isNull": True}},
    "finishedAt exists false": {"finishedAt": {"exists": False}},
    "updatedAt window": {"updatedAt": {"gt": MIDDLE, "lt": "2026-10-01T00:00:00Z"}},
    "errorCode eq": {"errorCode": {"eq": "E_BUSY"}},
    "errorCode in": {"errorCode": {"in": ["E_BUSY", "E_DENIED"]}},
    "errorCode ne": {"errorCode": {"ne": "E_BUSY"}},
    "errorCode nin": {"errorCode": {"nin": ["E_BUSY", "E_DENIED"]}},
    "errorCode contains": {"errorCode": {"contains": "not_"}},
    "hasErrors": {"hasErrors": True},
    "no errors": {"hasErrors": False},
    "controllerId eq": {"controllerId": {"eq": A_CONTROLLER_ID}},
    "controllerId ne (jobs with a visible controller)": {"controllerId": {"ne": A_CONTROLLER_ID}},
    "controllerId startsWith": {"controllerId": {"startsWith": "CONTROLLER-"}},
    "controllerId of another domain": {"controllerId": {"eq": FOREIGN_CONTROLLER_ID}},
    "keyword, any word": {"keyword": f"  {A_JOB[-4:].upper()}   {OWN_JOBS[3]['job_id'][-4:]} "},
    "blank keyword": {"keyword": "   "},
    "siblings are ANDed": {"status": {"eq": "SUCCESS"}, "totalTasks": {"gt": 10}},
    "or": {"or": [{"status": {"eq": "ERROR"}}, {"totalTasks": {"lt": 3}}]},
    "empty or is ignored": {"or": [], "status": {"eq": "CREATED"}},
    "and": {"and": [{"status": {"ne": "ERROR"}}, {"remainedTasks": {"gt": 0}}]},
    "not": {"not": {"status": {"in": ["SUCCESS", "ERROR"]}}},
    "not of an empty filter matches nothing": {"not": {}},
    "nested and/or/not": {
        "or": [
            {"and": [{"hasErrors": True}, {"not": {"errorCode": {"eq": "E_DENIED"}}}]},
            {"not": {"or": [{"finishedAt": {"isNull": True}}, {"projectId": {"eq": "project-x"}}]}},
        ],
        "createdAt": {"lt": "2026-09-25T00:00:00Z"},
    },
    "not around a controller filter": {"not": {"controllerId": {"eq": A_CONTROLLER_ID}}},
}


async def _check(client: GraphQLClient, name: str) -> None:
    job_filter = CASES[name]
    body = await client(QUERY, {"filter": job_filter})
    assert "errors" not in body, body
    expected = [
        j["job_id"] for j in connection_order(OWN_JOBS)
        if job_matches(job_filter, j, OWN_CONTROLLERS)
    ]
    got = body["data"]["jobsConnection"]
    assert [n["jobId"] for n in got["nodes"]] == expected
    assert got["totalCount"] == len(expected)


def test_the_cases_are_not_trivial() -> None:
    sizes = {name: sum(job_matches(f, j, OWN_CONTROLLERS) for j in OWN_JOBS)
             for name, f in CASES.items()}
    trivial = {"no filter", "empty filter", "null fields are ignored", "blank keyword"}
    nothing = {"not of an empty filter matches nothing", "controllerId of another domain"}
    for name, size in sizes.items():
        if name in nothing:
            assert size == 0, name
        elif name not in trivial:
            assert 0 < size < len(OWN_JOBS), (name, size)


@pytest.mark.parametrize("name", CASES)
async def test_job_filter_in_process(mock_client: GraphQLClient, mock_db: Any, name: str) -> None:
    await seed(mock_db, JOBS, CONTROLLERS)
    await _check(mock_client, name)


@pytest.mark.wire
@pytest.mark.parametrize("name", CASES)
async def test_job_filter_on_the_wire(wire_client: GraphQLClient, wire_db: Any, name: str) -> None:
    await seed(wire_db, JOBS, CONTROLLERS)
    await _check(wire_client, name)


DEEP = {"not": {"not": {"not": {"not": {"status": {"eq": "ERROR"}, "jobId": {"ne": "x"}}}}}}


async def test_a_filter_deeper_than_the_limit_is_refused(
    mock_db: Any, settings: Settings
) -> None:
    async with client_for(settings.model_copy(update={"max_filter_depth": 4}), mock_db) as client:
        body = await client(QUERY, {"filter": DEEP})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "max_filter_depth" in error["message"]
    async with client_for(settings.model_copy(update={"max_filter_depth": 5}), mock_db) as client:
        assert "errors" not in await client(QUERY, {"filter": DEEP})


async def test_a_filter_with_too_many_conditions_is_refused(
    mock_db: Any, settings: Settings
) -> None:
    many = {"or": [{"jobId": {"eq": f"job-{n}"}} for n in range(6)]}
    async with client_for(settings.model_copy(update={"max_filter_conditions": 5}), mock_db) as client:
        body = await client(QUERY, {"filter": many})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "max_filter_conditions" in body["errors"][0]["message"]
