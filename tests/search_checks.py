"""Runs search scenarios through GraphQL and compares with answers computed in Python."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from tests.conftest import GraphQLClient
from tests.scenarios import Doc, Scenario

JOBS_QUERY = """
query Search($domain: String, $query: SearchQuery) {
  jobs(domainId: $domain, query: $query) { totalCount results { jobId } }
}
"""


def newest_first(docs: list[Doc]) -> list[Doc]:
    """SpaceONE's default order: created_at descending, then _id ascending."""
    by_id = sorted(docs, key=lambda d: d["_id"])
    return sorted(by_id, key=lambda d: d["created_at"], reverse=True)


async def check_scenario(
    client: GraphQLClient, scenario: Scenario, domain: str, jobs: list[Doc], controllers: list[Doc]
) -> None:
    by_id: dict[ObjectId, Doc] = {c["_id"]: c for c in controllers}
    expected = [
        d["job_id"]
        for d in newest_first([d for d in jobs if d["domain_id"] == domain and scenario.predicate(d, by_id)])
    ]
    query: dict[str, Any] = {"page": {"limit": 1000}}
    if scenario.filter:
        query["filter"] = scenario.filter
    if scenario.filter_or:
        query["filterOr"] = scenario.filter_or
    if scenario.keyword is not None:
        query["keyword"] = scenario.keyword
    body = await client(JOBS_QUERY, {"domain": domain, "query": query})
    assert "errors" not in body, body
    assert [r["jobId"] for r in body["data"]["jobs"]["results"]] == expected
    assert body["data"]["jobs"]["totalCount"] == len(expected)
