"""``node`` and ``nodes`` over the real driver: all the ids of a request cost one command per
type, and their nested fields one more per loader, whatever the number of ids and fields."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, GraphQLClient, seed
from tests.graphql.test_global_ids import controller_gid, job_gid
from tests.wire import CommandRecorder

pytestmark = pytest.mark.wire

JOBS, CONTROLLERS = factories.dataset(21, (DOMAIN, OTHER_DOMAIN), 15)
OWN = [job for job in JOBS if job["domain_id"] == DOMAIN]
CONTROLLER_BY_OID = {c["_id"]: c for c in CONTROLLERS}

MANY = """
query($ids: [ID!]!, $one: ID!, $two: ID!) {
  nodes(ids: $ids) { id ... on Job { jobId status } ... on ControllerInfo { name } }
  a: node(id: $one) { id }
  b: node(id: $two) { id ... on Job { totalTasks } }
}
"""
NESTED = """
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Job { jobId errors { errorCode } controllerInfo { controllerId } }
  }
}
"""


def finds(recorder: CommandRecorder) -> dict[str, list[dict[str, Any]]]:
    by_collection: dict[str, list[dict[str, Any]]] = {}
    for name, command in recorder.commands:
        assert name == "find", recorder.names
        by_collection.setdefault(command["find"], []).append(command)
    return by_collection


async def test_every_id_of_a_request_is_one_command_per_type(
    wire_client: GraphQLClient, wire_db: Any, command_recorder: CommandRecorder
) -> None:
    await seed(wire_db, JOBS, CONTROLLERS)
    own_controllers = [c for c in CONTROLLERS if c["domain_id"] == DOMAIN]
    ids = [job_gid(job) for job in OWN[:6]] + [controller_gid(c) for c in own_controllers]
    command_recorder.clear()

    body = await wire_client(MANY, {"ids": ids, "one": job_gid(OWN[7]), "two": job_gid(OWN[8])})

    assert "errors" not in body, body
    assert [node["id"] for node in body["data"]["nodes"]] == ids
    assert body["data"]["b"] == {"id": job_gid(OWN[8]), "totalTasks": OWN[8]["total_tasks"]}
    commands = finds(command_recorder)
    assert sorted(commands) == ["controller", "job"]
    assert len(commands["job"]) == len(commands["controller"]) == 1
    asked = commands["job"][0]["filter"]
    assert asked["$and"][0] == {"domain_id": DOMAIN}
    assert sorted(asked["$and"][1]["job_id"]["$in"]) == sorted(
        job["job_id"] for job in [*OWN[:6], OWN[7], OWN[8]]
    )


async def test_nested_fields_of_nodes_are_batched_too(
    wire_client: GraphQLClient, wire_db: Any, command_recorder: CommandRecorder
) -> None:
    await seed(wire_db, JOBS, CONTROLLERS)
    jobs = OWN[:10]
    command_recorder.clear()

    body = await wire_client(NESTED, {"ids": [job_gid(job) for job in jobs]})

    assert body["data"]["nodes"] == [
        {
            "jobId": job["job_id"],
            "errors": [{"errorCode": e["error_code"]} for e in job["errors"]],
            "controllerInfo": (
                None
                if (c := CONTROLLER_BY_OID.get(job["controller"])) is None
                else {"controllerId": c["controller_id"]}
            ),
        }
        for job in jobs
    ]
    commands = finds(command_recorder)
    # the jobs, then their errors (one query) and their controllers (one query)
    assert len(commands["job"]) == 2 and len(commands["controller"]) == 1
