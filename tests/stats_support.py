"""Helpers shared by the statistics tests: a seeded dataset on either back end, and plain-Python
views of the inserted documents that the expectations are computed from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import DOMAIN, OTHER_DOMAIN, GraphQLClient, seed
from tests.factories import dataset

JOB_STATS = """
query Stats($query: StatisticsQuery!, $domain: String) {
  jobStats(query: $query, domainId: $domain) { results totalCount }
}
"""


@dataclass
class Seeded:
    client: GraphQLClient
    database: Any
    jobs: list[dict[str, Any]]

    @property
    def mine(self) -> list[dict[str, Any]]:
        return [job for job in self.jobs if job["domain_id"] == DOMAIN]

    async def stats(self, query: dict[str, Any], domain: str = DOMAIN) -> dict[str, Any]:
        return await self.client(JOB_STATS, {"query": query, "domain": domain})

    async def rows(self, query: dict[str, Any]) -> list[Any]:
        body = await self.stats(query)
        assert "errors" not in body, body
        results: list[Any] = body["data"]["jobStats"]["results"]
        return results


async def seeded(client: GraphQLClient, database: Any, jobs_per_domain: int = 60) -> Seeded:
    jobs, controllers = dataset(7, (DOMAIN, OTHER_DOMAIN), jobs_per_domain)
    await seed(database, jobs, controllers)
    return Seeded(client, database, jobs)


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error
