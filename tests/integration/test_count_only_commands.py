"""Selecting only ``totalCount`` sends the count and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import DOMAIN, OTHER_DOMAIN, GraphQLClient, seed
from tests.factories import dataset
from tests.wire import CommandRecorder

pytestmark = pytest.mark.wire

QUERY = """
query Count($domainId: String!) {
  jobs(domainId: $domainId, status: ERROR) { totalCount }
}
"""


async def test_total_count_alone_is_one_count_command(
    wire_client: GraphQLClient, wire_db: Any, command_recorder: CommandRecorder
) -> None:
    jobs, controllers = dataset(7, (DOMAIN, OTHER_DOMAIN), 40)
    await seed(wire_db, jobs, controllers)
    command_recorder.clear()

    body = await wire_client(QUERY, {"domainId": DOMAIN})

    expected = sum(1 for j in jobs if j["domain_id"] == DOMAIN and j["status"] == "ERROR")
    assert body == {"data": {"jobs": {"totalCount": expected}}}
    assert command_recorder.names == ["aggregate"]  # count_documents is an aggregate
