"""JobFilter answers compared with answers computed in plain Python (tests/reference.py), on the
in-process database and on the wire server, through ``jobsConnection``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
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


@dataclass(frozen=True)
class World:
    """The seeded documents and values the cases refer to (built when first needed, so that
    importing this module leaves the shared factories untouched)."""

    jobs: list[dict[str, Any]]
    controllers: list[dict[str, Any]]

    @functools.cached_property
    def own_jobs(self) -> list[dict[str, Any]]:
        return [j for j in self.jobs if j["domain_id"] == DOMAIN]

    @functools.cached_property
    def own_controllers(self) -> dict[Any, dict[str, Any]]:
        return {c["_id"]: c for c in self.controllers if c["domain_id"] == DOMAIN}

    def job_id(self, index: int) -> str:
        return str(self.own_jobs[index]["job_id"])

    @property
    def foreign_controller_id(self) -> str:
        return next(c["controller_id"] for c in self.controllers if c["domain_id"] != DOMAIN)

    @property
    def controller_id(self) -> str:
        return str(next(iter(self.own_controllers.values()))["controller_id"])

    @property
    def middle(self) -> str:
        return sorted(j["created_at"] for j in self.own_jobs)[45].isoformat() + "Z"

    @property
    def early_finish(self) -> datetime:
        return sorted(j["finished_at"] for j in self.own_jobs if j.get("finished_at"))[10]


@functools.cache
def world() -> World:
    return World(*_data())


CASES: dict[str, Callable[[World], dict[str, Any] | None]] = {
    "no filter": lambda w: None,
    "empty filter": lambda w: {},
    "null fields are ignored": lambda w: {"jobId": None, "status": {"eq": None, "in": None}, "or": None},
    "jobId eq": lambda w: {"jobId": {"eq": w.job_id(7)}},
    "jobId ne": lambda w: {"jobId": {"ne": w.job_id(7)}},
    "jobId in": lambda w: {"jobId": {"in": [w.job_id(7), w.job_id(9), "job-nope"]}},
    "jobId nin": lambda w: {"jobId": {"nin": [w.job_id(7), w.job_id(9)]}},
    "jobId contains, any case": lambda w: {"jobId": {"contains": w.job_id(7)[-3:].upper()}},
    "jobId startsWith": lambda w: {"jobId": {"startsWith": w.job_id(7)[:-1].upper()}},
    "regex characters are plain text": lambda w: {"projectId": {"contains": "(X).*"}},
    "status eq": lambda w: {"status": {"eq": "ERROR"}},
    "status ne": lambda w: {"status": {"ne": "SUCCESS"}},
    "status in": lambda w: {"status": {"in": ["CREATED", "TIMEOUT"]}},
    "status nin": lambda w: {"status": {"nin": ["CREATED", "TIMEOUT", "SUCCESS"]}},
    "scheduleId eq": lambda w: {"scheduleId": {"eq": "schedule-a"}},
    "scheduleId isNull": lambda w: {"scheduleId": {"isNull": True}},
    "scheduleId not isNull": lambda w: {"scheduleId": {"isNull": False}},
    "scheduleId exists": lambda w: {"scheduleId": {"exists": True}},
    "scheduleId absent": lambda w: {"scheduleId": {"exists": False}},
    "projectId ne": lambda w: {"projectId": {"ne": "project-x"}},
    "totalTasks gt": lambda w: {"totalTasks": {"gt": 12}},
    "totalTasks range": lambda w: {"totalTasks": {"gte": 5, "lte": 20, "ne": 10}},
    "remainedTasks lt": lambda w: {"remainedTasks": {"lt": 4}},
    "remainedTasks in": lambda w: {"remainedTasks": {"in": [0, 1, 2]}},
    "totalTasks eq": lambda w: {"totalTasks": {"eq": 7}},
    "createdAt gte": lambda w: {"createdAt": {"gte": w.middle}},
    "createdAt lt": lambda w: {"createdAt": {"lt": w.middle}},
    "finishedAt gt (nulls never match)": lambda w: {
        "finishedAt": {"gt": w.early_finish.isoformat() + "+00:00"}
    },
    "finishedAt lte, zone +09:00": lambda w: {
        "finishedAt": {"lte": (w.early_finish + timedelta(hours=9)).isoformat() + "+09:00"}
    },
    "finishedAt eq": lambda w: {"finishedAt": {"eq": w.early_finish.isoformat() + "+00:00"}},
    "finishedAt isNull": lambda w: {"finishedAt": {"isNull": True}},
    "finishedAt exists false": lambda w: {"finishedAt": {"exists": False}},
    "updatedAt window": lambda w: {"updatedAt": {"gt": w.middle, "lt": "2026-10-01T00:00:00Z"}},
    "errorCode eq": lambda w: {"errorCode": {"eq": "E_BUSY"}},
    "errorCode in": lambda w: {"errorCode": {"in": ["E_BUSY", "E_DENIED"]}},
    "errorCode ne": lambda w: {"errorCode": {"ne": "E_BUSY"}},
    "errorCode nin": lambda w: {"errorCode": {"nin": ["E_BUSY", "E_DENIED"]}},
    "errorCode contains": lambda w: {"errorCode": {"contains": "not_"}},
    "hasErrors": lambda w: {"hasErrors": True},
    "no errors": lambda w: {"hasErrors": False},
    "controllerId eq": lambda w: {"controllerId": {"eq": w.controller_id}},
    "controllerId ne (jobs without a controller too)": lambda w: {"controllerId": {"ne": w.controller_id}},
    "controllerId startsWith": lambda w: {"controllerId": {"startsWith": "CONTROLLER-"}},
    "controllerId of another domain": lambda w: {"controllerId": {"eq": w.foreign_controller_id}},
    "keyword, any word": lambda w: {"keyword": f"  {w.job_id(7)[-4:].upper()}   {w.job_id(3)[-4:]} "},
    "blank keyword": lambda w: {"keyword": "   "},
    "siblings are ANDed": lambda w: {"status": {"eq": "SUCCESS"}, "totalTasks": {"gt": 10}},
    "or": lambda w: {"or": [{"status": {"eq": "ERROR"}}, {"totalTasks": {"lt": 3}}]},
    "empty or is ignored": lambda w: {"or": [], "status": {"eq": "CREATED"}},
    "and": lambda w: {"and": [{"status": {"ne": "ERROR"}}, {"remainedTasks": {"gt": 0}}]},
    "not": lambda w: {"not": {"status": {"in": ["SUCCESS", "ERROR"]}}},
    "not of an empty filter matches nothing": lambda w: {"not": {}},
    "nested and/or/not": lambda w: {
        "or": [
            {"and": [{"hasErrors": True}, {"not": {"errorCode": {"eq": "E_DENIED"}}}]},
            {"not": {"or": [{"finishedAt": {"isNull": True}}, {"projectId": {"eq": "project-x"}}]}},
        ],
        "createdAt": {"lt": "2026-09-25T00:00:00Z"},
    },
    "not around a controller filter": lambda w: {"not": {"controllerId": {"eq": w.controller_id}}},
}


async def _check(client: GraphQLClient, name: str) -> None:
    w = world()
    job_filter = CASES[name](w)
    body = await client(QUERY, {"filter": job_filter})
    assert "errors" not in body, body
    expected = [
        j["job_id"] for j in connection_order(w.own_jobs) if job_matches(job_filter, j, w.own_controllers)
    ]
    got = body["data"]["jobsConnection"]
    assert [n["jobId"] for n in got["nodes"]] == expected
    assert got["totalCount"] == len(expected)


def test_the_cases_are_not_trivial() -> None:
    w = world()
    sizes = {
        name: sum(job_matches(case(w), j, w.own_controllers) for j in w.own_jobs)
        for name, case in CASES.items()
    }
    trivial = {"no filter", "empty filter", "null fields are ignored", "blank keyword"}
    nothing = {"not of an empty filter matches nothing", "controllerId of another domain"}
    for name, size in sizes.items():
        if name in nothing:
            assert size == 0, name
        elif name not in trivial:
            assert 0 < size < len(w.own_jobs), (name, size)


@pytest.mark.parametrize("name", CASES)
async def test_job_filter_in_process(mock_client: GraphQLClient, mock_db: Any, name: str) -> None:
    await seed(mock_db, world().jobs, world().controllers)
    await _check(mock_client, name)


@pytest.mark.wire
@pytest.mark.parametrize("name", CASES)
async def test_job_filter_on_the_wire(wire_client: GraphQLClient, wire_db: Any, name: str) -> None:
    await seed(wire_db, world().jobs, world().controllers)
    await _check(wire_client, name)


DEEP = {"not": {"not": {"not": {"not": {"status": {"eq": "ERROR"}, "jobId": {"ne": "x"}}}}}}


async def test_a_filter_deeper_than_the_limit_is_refused(mock_db: Any, settings: Settings) -> None:
    async with client_for(settings.model_copy(update={"max_filter_depth": 4}), mock_db) as client:
        body = await client(QUERY, {"filter": DEEP})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "max_filter_depth" in error["message"]
    async with client_for(settings.model_copy(update={"max_filter_depth": 5}), mock_db) as client:
        assert "errors" not in await client(QUERY, {"filter": DEEP})


async def test_a_filter_with_too_many_conditions_is_refused(mock_db: Any, settings: Settings) -> None:
    many = {"or": [{"jobId": {"eq": f"job-{n}"}} for n in range(6)]}
    async with client_for(settings.model_copy(update={"max_filter_conditions": 5}), mock_db) as client:
        body = await client(QUERY, {"filter": many})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "max_filter_conditions" in body["errors"][0]["message"]
