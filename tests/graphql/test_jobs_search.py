"""`jobs` on an in-process database: every operator and combination, paging, sorting."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, GraphQLClient, seed
from tests.scenarios import scenarios
from tests.search_checks import check_scenario

JOBS, CONTROLLERS = factories.dataset(7, (DOMAIN, OTHER_DOMAIN), 80)
SCENARIOS = scenarios(CONTROLLERS, DOMAIN)


@pytest.fixture
async def client(mock_client: GraphQLClient, mock_db: Any) -> GraphQLClient:
    await seed(mock_db, JOBS, CONTROLLERS)
    return mock_client


def test_the_scenarios_select_something_and_not_everything() -> None:
    own = [d for d in JOBS if d["domain_id"] == DOMAIN]
    by_id = {c["_id"]: c for c in CONTROLLERS}
    informative = [s for s in SCENARIOS if 0 < sum(s.predicate(d, by_id) for d in own) < len(own)]
    assert len(informative) >= len(SCENARIOS) - 2  # "matches nothing" and "exists on null" by design


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
async def test_search_scenario(client: GraphQLClient, scenario: Any) -> None:
    await check_scenario(client, scenario, DOMAIN, JOBS, CONTROLLERS)
