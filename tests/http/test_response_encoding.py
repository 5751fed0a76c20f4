"""Responses are compact UTF-8 JSON that parses to the same value the standard library would
produce; dates are ISO-8601 UTC, non-ASCII text is sent as is, non-finite floats become null."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from tests.conftest import DOMAIN, GraphQLClient, seed
from tests.factories import error, job

QUERY = """
query One($domainId: String!, $jobId: ID!) {
  job(domainId: $domainId, jobId: $jobId) {
    jobId filter createdAt finishedAt errors { errorCode message additional }
  }
}
"""


def _no_constants(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


async def _post(mock_client: GraphQLClient, job_id: str) -> bytes:
    response = await mock_client.http.post(
        "/graphql", json={"query": QUERY, "variables": {"domainId": DOMAIN, "jobId": job_id}}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].endswith("json; charset=utf-8")
    return response.content


async def test_unicode_and_dates_are_sent_as_compact_utf8_json(
    mock_client: GraphQLClient, mock_db: Any
) -> None:
    created = datetime(2026, 3, 4, 5, 6, 7, 890000)  # BSON keeps milliseconds
    stored = job(
        DOMAIN,
        filters={"région": "서울", "emoji": "🚀", "quote": 'a "b" \\ c'},
        errors=[error("E_SEUL", "instance ‘i-1’ a échoué", hint="ça")],
        created_at=created,
        finished_at=None,
    )
    await seed(mock_db, [stored])

    body = await _post(mock_client, stored["job_id"])

    expected = {
        "data": {
            "job": {
                "jobId": stored["job_id"],
                "filter": stored["filters"],
                "createdAt": "2026-03-04T05:06:07.890000Z",
                "finishedAt": None,
                "errors": [
                    {"errorCode": "E_SEUL", "message": "instance ‘i-1’ a échoué", "additional": {"hint": "ça"}}
                ],
            }
        }
    }
    assert json.loads(body) == expected
    assert body == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()


async def test_a_non_finite_float_in_stored_data_is_sent_as_null(
    mock_client: GraphQLClient, mock_db: Any
) -> None:
    stored = job(DOMAIN, errors=[error("E_RATIO", ratio=math.nan, ceiling=math.inf, ok=0.5)])
    await seed(mock_db, [stored])

    body = await _post(mock_client, stored["job_id"])

    parsed = json.loads(body, parse_constant=_no_constants)
    assert parsed["data"]["job"]["errors"][0]["additional"] == {"ratio": None, "ceiling": None, "ok": 0.5}
