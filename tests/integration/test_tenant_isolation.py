"""Tenant isolation, proved two ways.

1. Every command: the tenant guard (tests/tenant_guard.py) sits on the wire-server client of the
   whole session and fails any test whose commands lack the domain condition. Here
   a corpus of queries through every read path runs on the wire server with a token of domain A
   over data of three domains, and every command must carry domain A and maxTimeMS.
2. Every answer: a property test generates random filters (SearchQuery conditions and JobFilter
   trees), orderings, pages, cursors and statistics queries for a caller of domain A, through
   jobs, job, jobsConnection, jobStats, jobSummary and jobTimeline, and runs each query twice — over data of several domains, and over domain A's data
   alone (the same documents, including a job that references a controller of domain B). Any
   influence of another domain's documents on an answer (a row, a count, a controller) makes
   the two answers differ. Most examples run on mongomock; a smaller run uses the wire server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mongomock_motor import AsyncMongoMockClient

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests import factories
from tests.tenant_guard import GUARD
from tests.tokens import KeyPair, bearer, claims, write_jwks

A, B, C = "domain-aaaaaaaaaaaa", "domain-bbbbbbbbbbbb", "domain-cccccccccccc"
PAIR = KeyPair.ec("iso")
TOKEN = bearer(PAIR.token(claims(A)))


def documents() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Jobs and controllers of three domains; some jobs of A point at controllers of B, and a
    controller of B shares its controller_id and name with one of A."""
    jobs, controllers = factories.dataset(seed=5, domains=(A, B, C), jobs_per_domain=24)
    own = next(c for c in controllers if c["domain_id"] == A)
    foreign = [c for c in controllers if c["domain_id"] == B]
    foreign[0].update(controller_id=own["controller_id"], name=own["name"])
    for index, job in enumerate(j for j in jobs if j["domain_id"] == A):
        if index % 5 == 0:
            job["controller"] = foreign[index % len(foreign)]["_id"]
    return jobs, controllers


JOBS_DOCS, CONTROLLER_DOCS = documents()
FOREIGN_JOB_IDS = {j["job_id"] for j in JOBS_DOCS if j["domain_id"] != A}
FOREIGN_CONTROLLER_NAMES = {c["controller_id"] for c in CONTROLLER_DOCS if c["domain_id"] != A}


def only_a(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(d) for d in docs if d["domain_id"] == A]


async def fill(database: Any, jobs: list[dict[str, Any]], controllers: list[dict[str, Any]]) -> None:
    await database["job"].insert_many([dict(d) for d in jobs])
    await database["controller"].insert_many([dict(d) for d in controllers])


def app_client(database: Any, keys: Path) -> httpx.AsyncClient:
    config = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0, auth="jwt", jwt_keys=str(keys))
    app = create_app(config, MongoHandle(database.client, database, embedded=False))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


JOB_FIELDS = (
    "jobId status domainId totalTasks filter errors { errorCode additional } "
    "controllerInfo { controllerId name domainId tags }"
)
JOBS = "query($query: SearchQuery) { jobs(query: $query) { totalCount results { %s } } }" % JOB_FIELDS
JOB = "query($id: ID!) { job(jobId: $id) { %s } }" % JOB_FIELDS
CONNECTION = (
    """
query($filter: JobFilter, $orderBy: [JobOrder!], $first: Int, $after: String, $last: Int,
      $before: String) {
  jobsConnection(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
                 before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { %s } }
  }
}
"""
    % JOB_FIELDS
)
STATS = "query($query: StatisticsQuery!) { jobStats(query: $query) { results totalCount } }"
SUMMARY = """
query($filter: JobFilter) {
  jobSummary(filter: $filter) {
    totalCount byStatus { status count } totalTasks remainedTasks jobsWithErrors successRate
    averageDurationSeconds
  }
}
"""
TIMELINE = """
query($filter: JobFilter, $interval: TimeInterval!, $from: DateTime, $to: DateTime,
      $timezone: String) {
  jobTimeline(filter: $filter, interval: $interval, from: $from, to: $to, timezone: $timezone) {
    start count byStatus { status count }
  }
}
"""
REST = "/power-scheduler/v1/jobs"
PATH_NAMES = {
    JOBS: "jobs",
    JOB: "job",
    CONNECTION: "jobsConnection",
    STATS: "jobStats",
    SUMMARY: "jobSummary",
    TIMELINE: "jobTimeline",
}


async def ask(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    """A GraphQL request (``query``), or a REST one (``query`` is ``GET <path>``/``POST <path>``)."""
    method, _, path = query.partition(" ")
    if method == "GET" and path.startswith(REST):
        response = await client.get(path, params=variables, headers=TOKEN)
    elif method == "POST" and path.startswith(REST):
        response = await client.post(path, json=variables, headers=TOKEN)
    else:
        response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=TOKEN)
    body = response.json()
    for error in body.get("errors", []):
        error.get("extensions", {}).pop("requestId", None)
    return response.status_code, body


def assert_only_domain_a(answer: tuple[int, dict[str, Any]]) -> None:
    """No data of another domain (error messages may quote the client's own input)."""
    body = answer[1]
    text = json.dumps(body.get("data") if "data" in body or "errors" in body else body)
    if "error" in body:  # a REST refusal
        return
    assert not any(job_id in text for job_id in FOREIGN_JOB_IDS)
    assert B not in text and C not in text


# 1. every command of every read path carries the caller's domain ---------------------------

CORPUS: list[tuple[str, dict[str, Any]]] = [
    (JOBS, {}),
    (JOBS, {"query": {"filter": [{"k": "domain_id", "v": B, "o": "EQ"}]}}),
    (
        JOBS,
        {
            "query": {
                "filterOr": [
                    {"k": "domain_id", "v": [B, C], "o": "IN"},
                    {"k": "status", "v": "ERROR", "o": "EQ"},
                ]
            }
        },
    ),
    (JOBS, {"query": {"filter": [{"k": "controller_id", "v": FOREIGN_CONTROLLER_NAMES.pop(), "o": "EQ"}]}}),
    (JOBS, {"query": {"filter": [{"k": "controller_info.domain_id", "v": B, "o": "EQ"}]}}),
    (
        JOBS,
        {
            "query": {
                "filter": [{"k": "controller_info.name", "v": "controller", "o": "CONTAIN"}],
                "sort": {"keys": [{"key": "status"}, {"key": "created_at", "desc": True}]},
                "page": {"start": 3, "limit": 5},
            }
        },
    ),
    (JOBS, {"query": {"keyword": "job-0 job-1", "countOnly": True}}),
    (JOBS, {"query": {"filter": [{"k": "errors", "v": {"error_code": "E_BUSY"}, "o": "MATCH"}]}}),
    (JOB, {"id": sorted(FOREIGN_JOB_IDS)[0]}),
    (JOB, {"id": next(j["job_id"] for j in JOBS_DOCS if j["domain_id"] == A)}),
    (CONNECTION, {"first": 7}),
    (CONNECTION, {"filter": {"controllerId": {"in": sorted(FOREIGN_CONTROLLER_NAMES)}}, "last": 3}),
    (
        CONNECTION,
        {
            "filter": {
                "or": [{"status": {"eq": "ERROR"}}, {"not": {"hasErrors": False}}],
                "errorCode": {"startsWith": "E_"},
            },
            "orderBy": [{"field": "TOTAL_TASKS", "direction": "DESC"}],
            "first": 5,
        },
    ),
    (
        STATS,
        {
            "query": {
                "aggregate": [
                    {
                        "group": {
                            "keys": [{"key": "domain_id", "name": "domain"}],
                            "fields": [{"operator": "COUNT", "name": "n"}],
                        }
                    }
                ]
            }
        },
    ),
    (
        STATS,
        {
            "query": {
                "filter": [{"k": "controller_info.domain_id", "v": B, "o": "EQ"}],
                "aggregate": [{"count": {"name": "n"}}],
            }
        },
    ),
    (STATS, {"query": {"distinct": "domain_id", "page": {"limit": 5}}}),
    (SUMMARY, {}),
    (SUMMARY, {"filter": {"controllerId": {"exists": True}}}),
    (TIMELINE, {"interval": "DAY"}),
    (
        TIMELINE,
        {"interval": "WEEK", "filter": {"status": {"in": ["ERROR", "SUCCESS"]}}, "timezone": "Asia/Seoul"},
    ),
    (f"GET {REST}", {}),
    (f"POST {REST}/search", {"query": {"filter": [{"k": "domain_id", "v": B, "o": "eq"}]}}),
    (f"POST {REST}/search", {"query": {"page": {"limit": 5}}}),
]


@pytest.mark.wire
async def test_the_guard_catches_an_unscoped_read(wire_db: Any) -> None:
    await wire_db["job"].find_one({"job_id": "x"}, max_time_ms=1000)
    await wire_db["job"].find_one({"domain_id": A})
    assert len(GUARD.violations) == 1
    assert "lacks the domain condition" in GUARD.violations[0]
    assert len(GUARD.untimed) == 1 and "'domain_id'" in GUARD.untimed[0]
    GUARD.reset()


@pytest.mark.wire
async def test_every_command_of_every_read_path_carries_the_callers_domain(
    wire_db: Any, tmp_path: Path
) -> None:
    await fill(wire_db, JOBS_DOCS, CONTROLLER_DOCS)
    GUARD.reset()
    async with app_client(wire_db, write_jwks(tmp_path / "jwks.json", PAIR)) as client:
        for query, variables in CORPUS:
            status, body = await ask(client, query, variables)
            assert status == 200 and "errors" not in body and "error" not in body, body
            assert_only_domain_a((status, body))
    assert GUARD.violations == []
    assert GUARD.untimed == []  # only the gateway's commands ran: each carries maxTimeMS
    assert GUARD.checked >= len(CORPUS)
    assert set(GUARD.domains) == {A}


# 2. answers do not depend on other domains' documents -----------------------------------------

KEYS = [
    "job_id",
    "status",
    "filter.region",
    "filter.size",
    "total_tasks",
    "remained_tasks",
    "errors",
    "errors.error_code",
    "errors.additional.attempt",
    "schedule_id",
    "project_id",
    "domain_id",
    "domainId",
    "created_at",
    "finished_at",
    "controller_id",
    "controller_info.domain_id",
    "controllerInfo.controllerId",
    "controller_info.name",
    "controller_info.provider",
    "controller_info.tags.team",
    "controller_info.created_at",
]
OPERATORS = [
    "EQ",
    "NOT",
    "EXISTS",
    "CONTAIN",
    "NOT_CONTAIN",
    "IN",
    "NOT_IN",
    "CONTAIN_IN",
    "NOT_CONTAIN_IN",
    "MATCH",
    "REGEX",
    "REGEX_IN",
    "GT",
    "GTE",
    "LT",
    "LTE",
    "DATETIME_GT",
    "DATETIME_LT",
    "TIMEDIFF_GT",
    "TIMEDIFF_LT",
]
WORDS = sorted(
    {
        A,
        B,
        C,
        "ERROR",
        "SUCCESS",
        "us-east-1",
        "aws",
        "sre",
        "E_BUSY",
        "bbbb",
        "a",
        *(c["controller_id"] for c in CONTROLLER_DOCS),
        *(c["name"] for c in CONTROLLER_DOCS),
        *sorted(FOREIGN_JOB_IDS)[:3],
        "2026-09-10T00:00:00Z",
        "now/d - 40d",
        "^job",
    }
)
SCALARS = st.one_of(st.sampled_from(WORDS), st.integers(-1, 31), st.booleans(), st.none())
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(
        st.sampled_from(["error_code", "errorCode", "message", "domain_id"]), SCALARS, min_size=1, max_size=2
    ),
)
CONDITIONS = st.fixed_dictionaries({"k": st.sampled_from(KEYS), "o": st.sampled_from(OPERATORS), "v": VALUES})
SORT_KEYS = [
    "created_at",
    "status",
    "total_tasks",
    "job_id",
    "finished_at",
    "domain_id",
    "filter.region",
    "_id",
]
SEARCH = st.fixed_dictionaries(
    {},
    optional={
        "filter": st.lists(CONDITIONS, max_size=4),
        "filterOr": st.lists(CONDITIONS, max_size=3),
        "keyword": st.sampled_from(["0", "job-0", "1 2", "", "bbbb"]),
        "sort": st.fixed_dictionaries(
            {
                "keys": st.lists(
                    st.fixed_dictionaries({"key": st.sampled_from(SORT_KEYS), "desc": st.booleans()}),
                    min_size=1,
                    max_size=3,
                )
            }
        ),
        "page": st.fixed_dictionaries({"start": st.integers(0, 30), "limit": st.integers(0, 15)}),
        "countOnly": st.booleans(),
    },
)
TEXTS = st.sampled_from([w for w in WORDS if isinstance(w, str)])
STRING_FILTER = st.fixed_dictionaries(
    {},
    optional={
        "eq": TEXTS,
        "ne": TEXTS,
        "in": st.lists(TEXTS, max_size=3),
        "nin": st.lists(TEXTS, max_size=3),
        "contains": TEXTS,
        "startsWith": TEXTS,
        "exists": st.booleans(),
        "isNull": st.booleans(),
    },
)
INT_FILTER = st.fixed_dictionaries(
    {}, optional={op: st.integers(-1, 31) for op in ("eq", "ne", "gt", "gte", "lt", "lte")}
)
DATE_FILTER = st.fixed_dictionaries(
    {},
    optional={
        "gte": st.sampled_from(["2026-09-05T00:00:00Z", "2026-09-20T12:00:00+09:00"]),
        "lt": st.sampled_from(["2026-09-15T00:00:00Z", "2026-10-02T00:00:00Z"]),
        "isNull": st.booleans(),
    },
)
STATUS_FILTER = st.fixed_dictionaries(
    {},
    optional={
        "eq": st.sampled_from(["ERROR", "SUCCESS", "NONE"]),
        "in": st.lists(st.sampled_from(["ERROR", "SUCCESS", "CREATED", "TIMEOUT"]), max_size=3),
    },
)
LEAF_FILTER = st.fixed_dictionaries(
    {},
    optional={
        "jobId": STRING_FILTER,
        "status": STATUS_FILTER,
        "scheduleId": STRING_FILTER,
        "projectId": STRING_FILTER,
        "controllerId": STRING_FILTER,
        "totalTasks": INT_FILTER,
        "remainedTasks": INT_FILTER,
        "createdAt": DATE_FILTER,
        "finishedAt": DATE_FILTER,
        "errorCode": STRING_FILTER,
        "hasErrors": st.booleans(),
        "keyword": TEXTS,
    },
)
JOB_FILTER = st.recursive(
    LEAF_FILTER,
    lambda children: st.fixed_dictionaries(
        {},
        optional={
            "and": st.lists(children, max_size=2),
            "or": st.lists(children, max_size=2),
            "not": children,
        },
    ),
    max_leaves=5,
)
ORDER = st.lists(
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(
                ["CREATED_AT", "UPDATED_AT", "FINISHED_AT", "STATUS", "TOTAL_TASKS", "REMAINED_TASKS", "JOB_ID"]
            ),
            "direction": st.sampled_from(["ASC", "DESC"]),
        }
    ),
    max_size=2,
)
CONNECTIONS = st.fixed_dictionaries(
    {"filter": JOB_FILTER, "orderBy": ORDER},
    optional={"first": st.integers(1, 9), "last": st.integers(1, 9)},
)
STAT_KEYS = [
    "status",
    "domain_id",
    "project_id",
    "schedule_id",
    "total_tasks",
    "errors.error_code",
    "filter.region",
    "controller_id",
    "created_at",
    "$domain_id",
    "errors",
]
STAT_NAMES = ["n", "status", "domain_id", "total", "$where", "a.b"]
GROUP = st.fixed_dictionaries(
    {
        "keys": st.lists(
            st.fixed_dictionaries({"key": st.sampled_from(STAT_KEYS), "name": st.sampled_from(STAT_NAMES)}),
            max_size=2,
        ),
        "fields": st.lists(
            st.fixed_dictionaries(
                {
                    "operator": st.sampled_from(["COUNT", "SUM", "MAX", "ADD_TO_SET", "PUSH"]),
                    "name": st.sampled_from(STAT_NAMES),
                },
                optional={"key": st.sampled_from(STAT_KEYS)},
            ),
            min_size=1,
            max_size=2,
        ),
    }
)
STAGES = st.one_of(
    st.builds(lambda g: {"group": g}, GROUP),
    st.builds(lambda n: {"count": {"name": n}}, st.sampled_from(STAT_NAMES)),
    st.builds(
        lambda k, d: {"sort": {"key": k, "desc": d}}, st.sampled_from(STAT_NAMES + STAT_KEYS), st.booleans()
    ),
    st.builds(lambda n: {"limit": n}, st.integers(0, 5)),
    st.builds(lambda p: {"unwind": {"path": p}}, st.sampled_from(["errors", "$errors", "filter"])),
)
STATISTICS = st.one_of(
    st.fixed_dictionaries(
        {"aggregate": st.lists(STAGES, min_size=1, max_size=3)},
        optional={
            "filter": st.lists(CONDITIONS, max_size=2),
            "page": st.fixed_dictionaries({"limit": st.integers(1, 5)}),
        },
    ),
    st.fixed_dictionaries(
        {"distinct": st.sampled_from(STAT_KEYS)}, optional={"filter": st.lists(CONDITIONS, max_size=2)}
    ),
)
TIMELINES = st.fixed_dictionaries(
    {"filter": JOB_FILTER, "interval": st.sampled_from(["DAY", "WEEK"])},
    optional={
        "from": st.sampled_from(["2026-08-25T00:00:00Z", "2026-09-10T00:00:00Z"]),
        "to": st.sampled_from(["2026-09-20T00:00:00Z", "2026-10-05T00:00:00Z"]),
        "timezone": st.sampled_from(["UTC", "Asia/Seoul", "America/New_York"]),
    },
)
REQUESTS = st.one_of(
    st.builds(lambda q: (JOBS, {"query": q}), SEARCH),
    st.builds(lambda i: (JOB, {"id": i}), st.sampled_from(sorted(job["job_id"] for job in JOBS_DOCS))),
    st.builds(lambda v: (CONNECTION, v), CONNECTIONS),
    st.builds(lambda q: (STATS, {"query": q}), STATISTICS),
    st.builds(lambda f: (SUMMARY, {"filter": f}), JOB_FILTER),
    st.builds(lambda v: (TIMELINE, v), TIMELINES),
)


@pytest.fixture(scope="module")
async def mock_pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, Any]]:
    keys = write_jwks(tmp_path_factory.mktemp("keys") / "jwks.json", PAIR)
    everything = AsyncMongoMockClient(tz_aware=False)["all"]
    alone = AsyncMongoMockClient(tz_aware=False)["alone"]
    await fill(everything, JOBS_DOCS, CONTROLLER_DOCS)
    await fill(alone, only_a(JOBS_DOCS), only_a(CONTROLLER_DOCS))
    async with app_client(everything, keys) as full, app_client(alone, keys) as isolated:
        yield full, isolated


async def check_same_answers(
    full: httpx.AsyncClient, isolated: httpx.AsyncClient, request: tuple[str, dict[str, Any]]
) -> None:
    query, variables = request
    seen = await ask(full, query, variables)
    expected = await ask(isolated, query, variables)
    assert seen == expected
    assert_only_domain_a(seen)
    page_info = ((seen[1].get("data") or {}).get("jobsConnection") or {}).get("pageInfo") or {}
    if page_info.get("endCursor") and "last" not in variables:  # the next page, by cursor
        following = {**variables, "after": page_info["endCursor"]}
        seen, expected = await ask(full, query, following), await ask(isolated, query, following)
        assert seen == expected
        assert_only_domain_a(seen)
        event("followed a cursor")
    event("answered" if seen[1].get("data") else "refused")
    event(f"path: {PATH_NAMES[query]}")


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=REQUESTS)
async def test_answers_never_depend_on_other_domains_mongomock(
    mock_pair: tuple[Any, Any], request: tuple[str, dict[str, Any]]
) -> None:
    await check_same_answers(*mock_pair, request)


@pytest.fixture(scope="module")
async def wire_pair(
    wire_driver: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Any, Any]]:
    keys = write_jwks(tmp_path_factory.mktemp("keys") / "jwks.json", PAIR)
    everything, alone = wire_driver["isolation-all"], wire_driver["isolation-alone"]
    for database in (everything, alone):
        await wire_driver.drop_database(database.name)
    await fill(everything, JOBS_DOCS, CONTROLLER_DOCS)
    await fill(alone, only_a(JOBS_DOCS), only_a(CONTROLLER_DOCS))
    async with app_client(everything, keys) as full, app_client(alone, keys) as isolated:
        yield full, isolated
    for database in (everything, alone):
        await wire_driver.drop_database(database.name)


@pytest.mark.wire
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=REQUESTS)
async def test_answers_never_depend_on_other_domains_wire(
    wire_pair: tuple[Any, Any], request: tuple[str, dict[str, Any]]
) -> None:
    await check_same_answers(*wire_pair, request)
