"""`jobs` and `job` through the real Motor driver over a socket to a wire server: the same
scenarios as in process, answers compared with Python, and the command count per request."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, GraphQLClient, seed
from tests.scenarios import scenarios
from tests.search_checks import check_scenario
from tests.wire import CommandRecorder

JOBS, CONTROLLERS = factories.dataset(11, (DOMAIN, OTHER_DOMAIN), 70)
SCENARIOS = scenarios(CONTROLLERS, DOMAIN)


@pytest.fixture
async def client(wire_client: GraphQLClient, wire_db: Any) -> GraphQLClient:
    await seed(wire_db, JOBS, CONTROLLERS)
    return wire_client


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
async def test_search_scenario_over_the_wire(client: GraphQLClient, scenario: Any) -> None:
    await check_scenario(client, scenario, DOMAIN, JOBS, CONTROLLERS)


EVERY_FIELD_PAGE = (
    """
query Every($limit: Int) {
  jobs(domainId: "%s", query: {page: {limit: $limit}}) {
    totalCount
    results {
      jobId status filter totalTasks remainedTasks scheduleId projectId domainId
      createdAt updatedAt finishedAt
      errors { errorCode message additional }
      controllerInfo { controllerId name pluginInfo { pluginId } }
    }
  }
}
"""
    % DOMAIN
)


async def test_a_page_costs_the_same_few_commands_whatever_its_size(
    wire_client: GraphQLClient, wire_db: Any, command_recorder: CommandRecorder
) -> None:
    controllers = [factories.controller(DOMAIN) for _ in range(5)]
    jobs = [
        factories.job(
            DOMAIN,
            controller=controllers[i % 5]["_id"],
            errors=[factories.error("E_X", f"m{i}-" + "x" * 2000)] * (i % 3),
        )
        for i in range(230)
    ]
    await seed(wire_db, jobs, controllers)
    counts = {}
    for size in (1, 10, 200):
        command_recorder.clear()
        body = await wire_client(EVERY_FIELD_PAGE, {"limit": size})
        assert "errors" not in body, body
        results = body["data"]["jobs"]["results"]
        assert len(results) == size and body["data"]["jobs"]["totalCount"] == 230
        assert all(r["controllerInfo"] is not None for r in results)
        counts[size] = list(command_recorder.names)
    # one page find, one count, one batched errors find, one batched controllers find
    assert all(len(names) <= 4 for names in counts.values()), counts
    assert len(counts[1]) == len(counts[10]) == len(counts[200])
    assert "getMore" not in counts[200]


async def test_the_domain_is_in_every_command_sent(
    wire_client: GraphQLClient, wire_db: Any, command_recorder: CommandRecorder
) -> None:
    await seed(wire_db, JOBS, CONTROLLERS)
    command_recorder.clear()
    body = await wire_client(
        EVERY_FIELD_PAGE.replace(
            "query: {page: {limit: $limit}}",
            'query: {page: {limit: $limit}, filter: [{k: "controller_info.provider", v: "aws", o: EQ}]}',
        ),
        {"limit": 50},
    )
    assert "errors" not in body, body
    assert len(command_recorder.commands) == 5  # + the controller sub-query
    for name, command in command_recorder.commands:
        if name == "aggregate":
            first_match = command["pipeline"][0]["$match"]
        else:
            first_match = command["filter"]
        conditions = first_match.get("$and", [first_match])
        assert {"domain_id": DOMAIN} in conditions, (name, command)
