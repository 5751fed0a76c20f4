"""``jobsConnection`` over the real driver and a real socket: stable walks while jobs are added
and removed, the commands sent (one range query per page, no skip, only the fields selected),
and what the server examines for a deep page."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId

from gateway.mongo.indexes import ADVICE
from tests.conftest import DOMAIN, OTHER_DOMAIN, GraphQLClient, seed
from tests.factories import BASE_TIME, STATUSES, dataset, job
from tests.reference import connection_order
from tests.wire import CommandRecorder

pytestmark = pytest.mark.wire

WALK = """
query Walk($orderBy: [JobOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  jobsConnection(domainId: "@DOMAIN@", orderBy: $orderBy, first: $first, after: $after, last: $last,
                 before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { jobId }
  }
}
""".replace("@DOMAIN@", DOMAIN)

ORDERINGS = [
    None,
    [{"field": "FINISHED_AT"}],
    [{"field": "FINISHED_AT", "direction": "DESC"}],
    [{"field": "STATUS"}],
    [{"field": "STATUS", "direction": "DESC"}, {"field": "TOTAL_TASKS"}],
]


def _newcomer(rng: random.Random) -> dict[str, Any]:
    status = rng.choice(STATUSES)
    created = BASE_TIME + timedelta(days=60, minutes=rng.randint(0, 999))
    return job(
        DOMAIN,
        status=status,
        created_at=created,
        updated_at=created,
        total_tasks=rng.randint(0, 30),
        finished_at=created + timedelta(minutes=5) if status in ("SUCCESS", "ERROR") else None,
    )


@pytest.mark.parametrize("backward", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("order_by", ORDERINGS, ids=str)
async def test_a_walk_under_writes_returns_every_surviving_job_once_in_order(
    wire_client: GraphQLClient, wire_db: Any, order_by: Any, backward: bool
) -> None:
    rng = random.Random(f"{order_by}{backward}")
    jobs, controllers = dataset(seed=3, domains=(DOMAIN, OTHER_DOMAIN), jobs_per_domain=40)
    for index, document in enumerate(jobs):
        if index % 7 == 1:
            document.pop("finished_at")
    await seed(wire_db, jobs, controllers)
    originals = {j["job_id"]: j for j in jobs if j["domain_id"] == DOMAIN}
    added: set[str] = set()
    deleted: set[str] = set()
    walked: list[str] = []
    cursor: str | None = None
    while True:
        page = {"last": 6, "before": cursor} if backward else {"first": 6, "after": cursor}
        body = await wire_client(WALK, {"orderBy": order_by, **page})
        assert "errors" not in body, body
        connection = body["data"]["jobsConnection"]
        ids = [node["jobId"] for node in connection["nodes"]]
        walked.extend(reversed(ids) if backward else ids)
        info = connection["pageInfo"]
        if not info["hasPreviousPage" if backward else "hasNextPage"]:
            break
        cursor = info["startCursor" if backward else "endCursor"]
        # between pages: newer jobs arrive, others go (including the one the cursor points at)
        newcomers = [_newcomer(rng) for _ in range(2)]
        await wire_db["job"].insert_many(newcomers)
        added.update(n["job_id"] for n in newcomers)
        alive = sorted(set(originals) - deleted)
        gone = {ids[0] if backward else ids[-1], *rng.sample(alive, 2)}
        await wire_db["job"].delete_many({"job_id": {"$in": sorted(gone)}})
        deleted |= gone

    assert len(walked) == len(set(walked)), "a job was returned twice"
    assert set(walked) <= set(originals) | added
    survivors = [
        j["job_id"]
        for j in connection_order([j for key, j in originals.items() if key not in deleted], order_by)
    ]
    if backward:
        survivors.reverse()
    assert [key for key in walked if key in originals and key not in deleted] == survivors
    assert len(deleted) > 10 and added


PROJECTION_CASES: dict[str, tuple[str, set[str]]] = {
    "nodes, default order": (
        'jobsConnection(domainId: "@DOMAIN@", first: 3) { nodes { jobId } }',
        {"_id", "domain_id", "job_id", "created_at"},
    ),
    "edges with a fragment, ordered by tasks": (
        (
            'jobsConnection(domainId: "@DOMAIN@", first: 3, orderBy: [{field: TOTAL_TASKS}]) '
            "{ edges { cursor node { ...Times } } }"
        ),
        {"_id", "domain_id", "status", "finished_at", "total_tasks"},
    ),
    "aliases and the controller": (
        (
            'jobsConnection(domainId: "@DOMAIN@", first: 3) '
            "{ nodes { id: jobId when: createdAt ctl: controllerInfo { name } } }"
        ),
        {"_id", "domain_id", "job_id", "created_at", "controller"},
    ),
    "errors and filter": (
        (
            'jobsConnection(domainId: "@DOMAIN@", first: 3, orderBy: [{field: JOB_ID, direction: DESC}]) '
            "{ nodes { filter errors { errorCode } } }"
        ),
        {"_id", "domain_id", "job_id", "filter", "filters"},
    ),
    "inline fragment and page info only": (
        (
            'jobsConnection(domainId: "@DOMAIN@", first: 3) { pageInfo { endCursor } '
            "nodes { ... on Job { remainedTasks } } }"
        ),
        {"_id", "domain_id", "created_at", "remained_tasks"},
    ),
    "jobs listing with a fragment": (
        'jobs(domainId: "@DOMAIN@", query: {page: {limit: 3}}) { results { jobId ...Times } }',
        {"_id", "domain_id", "job_id", "status", "finished_at"},
    ),
    "one job": (
        'job(domainId: "@DOMAIN@", jobId: "@JOB@") { scheduleId other: projectId }',
        {"_id", "domain_id", "schedule_id", "project_id"},
    ),
}
FRAGMENT = "fragment Times on Job { status finishedAt }"


def _job_finds(recorder: CommandRecorder) -> list[dict[str, Any]]:
    return [body for name, body in recorder.commands if name == "find" and body["find"] == "job"]


@pytest.mark.parametrize("name", PROJECTION_CASES)
async def test_the_page_query_reads_only_the_selected_fields(
    wire_client: GraphQLClient, wire_db: Any, command_recorder: CommandRecorder, name: str
) -> None:
    jobs, controllers = dataset(seed=5, domains=(DOMAIN,), jobs_per_domain=8)
    await seed(wire_db, jobs, controllers)
    field, expected = PROJECTION_CASES[name]
    document = "{ " + field.replace("@DOMAIN@", DOMAIN).replace("@JOB@", jobs[0]["job_id"]) + " }"
    if "..." in field and "on Job" not in field:
        document += FRAGMENT
    command_recorder.clear()
    body = await wire_client(document)
    assert "errors" not in body, body
    page_find, *loader_finds = _job_finds(command_recorder)
    assert set(page_find["projection"]) == expected
    # the errors loader reads the selected parts of `errors` only
    assert all(set(find["projection"]) == {"errors.error_code"} for find in loader_finds)
    assert bool(loader_finds) == ("errors" in field)


SIZE = 10
PAGE = """
query Deep($after: String) {
  jobsConnection(domainId: "@DOMAIN@", first: @SIZE@, after: $after) { pageInfo { endCursor } nodes { jobId } }
}
""".replace("@DOMAIN@", DOMAIN).replace("@SIZE@", str(SIZE))


async def test_a_deep_page_is_one_range_query_that_costs_what_an_early_page_costs(
    wire_client: GraphQLClient, wire_db: Any, command_recorder: CommandRecorder
) -> None:
    jobs, controllers = dataset(seed=11, domains=(DOMAIN, OTHER_DOMAIN), jobs_per_domain=150)
    await seed(wire_db, jobs, controllers)
    await wire_db["job"].create_index([("domain_id", 1), ("created_at", 1), ("_id", 1)])
    expected = [j["job_id"] for j in connection_order([j for j in jobs if j["domain_id"] == DOMAIN])]
    finds: list[dict[str, Any]] = []
    cursor = None
    for number in range(15):
        command_recorder.clear()
        body = await wire_client(PAGE, {"after": cursor})
        assert [n["jobId"] for n in body["data"]["jobsConnection"]["nodes"]] == expected[
            number * SIZE : (number + 1) * SIZE
        ]
        assert command_recorder.names == ["find"]  # no count, no getMore, no second query
        (find,) = _job_finds(command_recorder)
        assert "skip" not in find and find["limit"] == SIZE + 1
        finds.append(find)
        cursor = body["data"]["jobsConnection"]["pageInfo"]["endCursor"]

    examined = {}
    for number in (1, 7, 14):
        find = finds[number]
        explained = await wire_db.command(
            {
                "explain": {key: find[key] for key in ("find", "filter", "sort", "limit", "projection")},
                "verbosity": "executionStats",
            }
        )
        examined[number] = explained["executionStats"]["totalDocsExamined"]
    # every page after the first is the same range query shape: what the server examines does
    # not grow with depth (a skip would make it grow by one page per page)
    assert examined[1] == examined[7] == examined[14], examined


COUNTED = """
query Counted($after: String) {
  jobsConnection(domainId: "@DOMAIN@", first: 5, after: $after) {
    totalCount pageInfo { hasPreviousPage endCursor } nodes { jobId }
  }
}
""".replace("@DOMAIN@", DOMAIN)
UNCOUNTED = """
query Plain($after: String) {
  jobsConnection(domainId: "@DOMAIN@", first: 5, after: $after) { pageInfo { endCursor } nodes { jobId } }
}
""".replace("@DOMAIN@", DOMAIN)


async def test_count_and_look_behind_run_only_when_selected(
    wire_client: GraphQLClient, wire_db: Any, command_recorder: CommandRecorder
) -> None:
    jobs, controllers = dataset(seed=12, domains=(DOMAIN, OTHER_DOMAIN), jobs_per_domain=20)
    await seed(wire_db, jobs, controllers)
    own = [j for j in jobs if j["domain_id"] == DOMAIN]
    command_recorder.clear()
    first = (await wire_client(UNCOUNTED))["data"]["jobsConnection"]
    assert command_recorder.names == ["find"]
    command_recorder.clear()
    counted = await wire_client(COUNTED, {"after": first["pageInfo"]["endCursor"]})
    connection = counted["data"]["jobsConnection"]
    assert connection["totalCount"] == len(own)
    assert connection["pageInfo"]["hasPreviousPage"] is True
    assert sorted(command_recorder.names) == ["aggregate", "find", "find"]
    # with every earlier job gone, the look-behind says so
    seen = [n["jobId"] for n in first["nodes"]]
    await wire_db["job"].delete_many({"job_id": {"$in": seen}})
    again = await wire_client(COUNTED, {"after": first["pageInfo"]["endCursor"]})
    assert again["data"]["jobsConnection"]["pageInfo"]["hasPreviousPage"] is False
    assert again["data"]["jobsConnection"]["totalCount"] == len(own) - len(seen)


async def test_a_job_of_another_domain_never_shows(wire_client: GraphQLClient, wire_db: Any) -> None:
    jobs, controllers = dataset(seed=13, domains=(DOMAIN, OTHER_DOMAIN), jobs_per_domain=15)
    await seed(wire_db, jobs, controllers)
    body = await wire_client(UNCOUNTED.replace("first: 5", "first: 100"))
    ids = {n["jobId"] for n in body["data"]["jobsConnection"]["nodes"]}
    assert ids == {j["job_id"] for j in jobs if j["domain_id"] == DOMAIN}
    assert all(isinstance(j["_id"], ObjectId) for j in jobs)


async def test_the_advised_indexes_can_be_created_and_serve_the_first_page(wire_db: Any) -> None:
    jobs, controllers = dataset(seed=8, domains=(DOMAIN,), jobs_per_domain=30)
    await seed(wire_db, jobs, controllers)
    for advice in ADVICE:
        await wire_db[advice.collection].create_index(list(advice.keys), name=advice.name, unique=advice.unique)
    explained = await wire_db.command(
        {
            "explain": {
                "find": "job",
                "filter": {"domain_id": DOMAIN},
                "sort": {"finished_at": -1, "_id": -1},
                "limit": 11,
            },
            "verbosity": "executionStats",
        }
    )
    assert "domain_id_1_" in json.dumps(explained["queryPlanner"]["winningPlan"])
