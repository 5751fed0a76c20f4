"""A backend-for-frontend over jobs-gateway with the ``gql`` client.

It builds the payload of a "failed jobs" dashboard card for one domain: it pages through every
failed job with ``jobsConnection`` (a query with variables; each page continues after the
previous page's ``endCursor``), counts their errors by code, keeps the newest few, and shows how a
GraphQL error reaches a client (``extensions.code`` / ``extensions.spaceoneCode``).

    pip install 'gql[httpx]'
    python examples/python/jobs_bff.py --url http://127.0.0.1:8000/graphql \
        --domain domain-7f3a1c9e2b4d

With GATEWAY_AUTH=jwt, put the token in JOBS_GATEWAY_TOKEN and leave --domain out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from gql import Client, GraphQLRequest, gql
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

FAILED_JOBS = gql(
    """
    query FailedJobs($domainId: String, $first: Int!, $after: String) {
      jobsConnection(domainId: $domainId, filter: {status: {eq: ERROR}},
                     first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          jobId
          createdAt
          errors { errorCode }
        }
      }
    }
    """
)

# A mistake on purpose: the `in` operator needs a list of values.
MISTAKEN = gql(
    """
    query Mistaken($domainId: String) {
      jobs(domainId: $domainId, query: {filter: [{k: "status", v: "ERROR", o: IN}]}) {
        totalCount
      }
    }
    """
)


class GatewayRejected(Exception):
    """The gateway answered with GraphQL errors; ``code`` is the first one's extensions.code."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", "request rejected"))
        extensions = error.get("extensions") or {}
        self.code: str = extensions.get("code", "UNKNOWN")
        self.spaceone_code: str | None = extensions.get("spaceoneCode")


async def execute(session: AsyncClientSession, request: GraphQLRequest, **variables: Any) -> dict[str, Any]:
    """Run one request; GraphQL errors become ``GatewayRejected``."""
    try:
        return await session.execute(GraphQLRequest(request, variable_values=variables))
    except TransportQueryError as error:
        raise GatewayRejected((error.errors or [{}])[0]) from error


async def failed_jobs(
    session: AsyncClientSession, domain_id: str | None, page_size: int
) -> AsyncIterator[dict[str, Any]]:
    """Each page of failed jobs (``totalCount``, ``nodes``), newest first."""
    after = None
    while True:
        page = (await execute(session, FAILED_JOBS, domainId=domain_id, first=page_size, after=after))[
            "jobsConnection"
        ]
        yield page
        if not page["pageInfo"]["hasNextPage"]:
            return
        after = page["pageInfo"]["endCursor"]


async def dashboard_card(session: AsyncClientSession, domain_id: str | None, page_size: int) -> dict[str, Any]:
    """The payload the frontend gets."""
    total, pages, newest = 0, 0, []
    by_code: Counter[str] = Counter()
    async for page in failed_jobs(session, domain_id, page_size):
        total, pages = page["totalCount"], pages + 1
        newest = newest or [job["jobId"] for job in page["nodes"][:3]]
        by_code.update(error["errorCode"] for job in page["nodes"] for error in job["errors"])
    try:
        await execute(session, MISTAKEN, domainId=domain_id)
        rejected = None
    except GatewayRejected as error:
        rejected = {"code": error.code, "spaceoneCode": error.spaceone_code, "message": str(error)}
    return {
        "domainId": domain_id,
        "failedJobs": total,
        "pagesRead": pages,
        "newest": newest,
        "errorsByCode": dict(sorted(by_code.items())),
        "rejectedExample": rejected,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--domain", help="domain to read (not with a token)")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    token = os.environ.get("JOBS_GATEWAY_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = HTTPXAsyncTransport(url=args.url, headers=headers, timeout=30)
    try:
        async with Client(transport=transport) as session:
            card = await dashboard_card(session, args.domain, args.page_size)
    except GatewayRejected as error:  # e.g. a missing domain or a refused token
        print(f"the gateway refused the request: {error.code}: {error}", file=sys.stderr)
        return 1
    except (TransportError, OSError) as error:  # unreachable, HTTP 5xx, not GraphQL
        print(f"cannot reach the gateway at {args.url}: {error!r}", file=sys.stderr)
        return 2
    print(json.dumps(card, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
