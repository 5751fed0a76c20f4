"""``jobsConnection`` walked forwards and backwards in many orders, with exact page info, and
every bad page request refused with BAD_USER_INPUT. Expected orders come from tests/reference."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from gateway.settings import Settings
from tests.conftest import DOMAIN, OTHER_DOMAIN, GraphQLClient, client_for, seed
from tests.factories import dataset
from tests.reference import connection_order

PAGE = """
query Page($orderBy: [JobOrder!], $first: Int, $after: String, $last: Int, $before: String,
           $filter: JobFilter) {
  jobsConnection(domainId: "@DOMAIN@", orderBy: $orderBy, first: $first, after: $after, last: $last,
                 before: $before, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { jobId } }
    nodes { jobId }
  }
}
""".replace("@DOMAIN@", DOMAIN)


def _data() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    jobs, controllers = dataset(seed=7, domains=(DOMAIN, OTHER_DOMAIN), jobs_per_domain=45)
    for index, job in enumerate(jobs):
        if index % 9 == 2:
            job.pop("finished_at")  # absent sorts like null
        if index % 5 == 0:
            job["created_at"] = jobs[0]["created_at"]  # many equal values
    return jobs, controllers


@functools.cache
def _world() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(jobs, controllers, this domain's jobs), built when first needed so that importing this
    module leaves the shared factories untouched."""
    jobs, controllers = _data()
    return jobs, controllers, [j for j in jobs if j["domain_id"] == DOMAIN]


@pytest.fixture
async def own_jobs(mock_db: Any) -> list[dict[str, Any]]:
    """Seeds the in-process database; gives this domain's jobs."""
    jobs, controllers, own = _world()
    await seed(mock_db, jobs, controllers)
    return own


ORDERINGS: list[list[dict[str, str]] | None] = [
    None,
    [{"field": "FINISHED_AT"}],
    [{"field": "FINISHED_AT", "direction": "DESC"}],
    [{"field": "STATUS"}, {"field": "CREATED_AT", "direction": "DESC"}],
    [{"field": "STATUS", "direction": "DESC"}],
    [{"field": "TOTAL_TASKS"}, {"field": "JOB_ID", "direction": "DESC"}],
    [{"field": "UPDATED_AT", "direction": "DESC"}],
    [{"field": "REMAINED_TASKS"}, {"field": "FINISHED_AT", "direction": "DESC"}],
    [{"field": "JOB_ID"}],
]


def _ids(connection: dict[str, Any]) -> list[str]:
    return [node["jobId"] for node in connection["nodes"]]


async def _page(client: GraphQLClient, **variables: Any) -> dict[str, Any]:
    body = await client(PAGE, variables)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["jobsConnection"]
    assert [e["node"]["jobId"] for e in connection["edges"]] == _ids(connection)
    cursors = [e["cursor"] for e in connection["edges"]]
    info = connection["pageInfo"]
    assert (info["startCursor"], info["endCursor"]) == ((cursors[0], cursors[-1]) if cursors else (None, None))
    return connection


async def walk(
    client: GraphQLClient, order_by: Any, size: int, *, backward: bool = False, job_filter: Any = None
) -> list[list[str]]:
    """Every page of the connection, in the order they were fetched; checks page info."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        direction = {"last": size, "before": cursor} if backward else {"first": size, "after": cursor}
        connection = await _page(client, orderBy=order_by, filter=job_filter, **direction)
        pages.append(_ids(connection))
        info = connection["pageInfo"]
        more, behind = ("hasPreviousPage", "hasNextPage") if backward else ("hasNextPage", "hasPreviousPage")
        assert info[behind] is (cursor is not None)
        if not info[more]:
            return pages
        assert len(pages[-1]) == size
        cursor = info["startCursor"] if backward else info["endCursor"]


@pytest.mark.parametrize("order_by", ORDERINGS, ids=str)
async def test_walking_forwards_visits_every_job_once_in_order(
    mock_client: GraphQLClient, own_jobs: list[dict[str, Any]], order_by: Any
) -> None:
    expected = [j["job_id"] for j in connection_order(own_jobs, order_by)]
    pages = await walk(mock_client, order_by, 7)
    assert [job for page in pages for job in page] == expected
    assert len(pages) == -(-len(expected) // 7)


@pytest.mark.parametrize("order_by", ORDERINGS, ids=str)
async def test_walking_backwards_visits_every_job_once_in_order(
    mock_client: GraphQLClient, own_jobs: list[dict[str, Any]], order_by: Any
) -> None:
    expected = [j["job_id"] for j in connection_order(own_jobs, order_by)]
    pages = await walk(mock_client, order_by, 8, backward=True)
    assert [job for page in reversed(pages) for job in page] == expected
    assert pages[0] == expected[-8:]


async def test_a_filtered_walk_and_its_total_count(
    mock_client: GraphQLClient, own_jobs: list[dict[str, Any]]
) -> None:
    job_filter = {"status": {"in": ["SUCCESS", "ERROR"]}}
    order_by = [{"field": "FINISHED_AT", "direction": "DESC"}]
    expected = [
        j["job_id"] for j in connection_order(own_jobs, order_by) if j["status"] in ("SUCCESS", "ERROR")
    ]
    pages = await walk(mock_client, order_by, 4, job_filter=job_filter)
    assert [job for page in pages for job in page] == expected
    connection = await _page(mock_client, orderBy=order_by, filter=job_filter, first=2)
    assert connection["totalCount"] == len(expected)


async def test_between_two_cursors(mock_client: GraphQLClient, own_jobs: list[dict[str, Any]]) -> None:
    order_by = [{"field": "STATUS"}]
    expected = [j["job_id"] for j in connection_order(own_jobs, order_by)]
    edges = (await _page(mock_client, orderBy=order_by, first=30))["edges"]
    after, before = edges[5]["cursor"], edges[15]["cursor"]
    forward = await _page(mock_client, orderBy=order_by, first=100, after=after, before=before)
    assert _ids(forward) == expected[6:15]
    assert (forward["pageInfo"]["hasNextPage"], forward["pageInfo"]["hasPreviousPage"]) == (False, True)
    backward = await _page(mock_client, orderBy=order_by, last=3, after=after, before=before)
    assert _ids(backward) == expected[12:15]
    assert (backward["pageInfo"]["hasNextPage"], backward["pageInfo"]["hasPreviousPage"]) == (True, True)


async def test_an_empty_page_still_tells_what_follows(
    mock_client: GraphQLClient, own_jobs: list[dict[str, Any]]
) -> None:
    connection = await _page(mock_client, first=0)
    assert connection["nodes"] == []
    assert connection["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }
    assert connection["totalCount"] == len(own_jobs)


async def test_no_size_gives_the_default_page(
    mock_db: Any, settings: Settings, own_jobs: list[dict[str, Any]]
) -> None:
    expected = [j["job_id"] for j in connection_order(own_jobs)]
    async with client_for(settings.model_copy(update={"default_page_size": 6}), mock_db) as client:
        first = await _page(client)
        assert _ids(first) == expected[:6]
        before_only = await _page(client, before=first["edges"][-1]["cursor"])
        assert _ids(before_only) == expected[:5]


async def test_instances_with_the_same_secret_share_cursors(
    mock_db: Any, settings: Settings, own_jobs: list[dict[str, Any]]
) -> None:
    expected = [j["job_id"] for j in connection_order(own_jobs)]
    same = settings.model_copy(update={"cursor_secret": settings.cursor_secret})
    async with client_for(settings, mock_db) as one, client_for(same, mock_db) as two:
        cursor = (await _page(one, first=3))["pageInfo"]["endCursor"]
        assert _ids(await _page(two, first=3, after=cursor)) == expected[3:6]


async def test_a_cursor_signed_with_another_secret_is_refused(
    mock_db: Any, settings: Settings, own_jobs: list[dict[str, Any]]
) -> None:
    other = Settings(mongodb_uri="mongodb://unused.invalid", cursor_secret="another-secret-entirely")
    async with client_for(settings, mock_db) as one, client_for(other, mock_db) as two:
        cursor = (await _page(one, first=3))["pageInfo"]["endCursor"]
        body = await two(PAGE, {"after": cursor})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def _cursor(client: GraphQLClient, order_by: Any = None) -> str:
    return str((await _page(client, orderBy=order_by, first=2))["pageInfo"]["endCursor"])


BAD_REQUESTS: dict[str, Any] = {
    "first and last": lambda c: {"first": 2, "last": 2},
    "negative first": lambda c: {"first": -1},
    "negative last": lambda c: {"last": -3},
    "first above the cap": lambda c: {"first": 1001},
    "last above the cap": lambda c: {"last": 5000},
    "malformed after": lambda c: {"after": "not-a-cursor"},
    "empty before": lambda c: {"before": ""},
    "tampered after": lambda c: {"after": c[:10] + ("x" if c[10] != "x" else "y") + c[11:]},
    "truncated before": lambda c: {"before": c[:-4]},
    "cursor of another ordering": lambda c: {"after": c, "orderBy": [{"field": "STATUS"}]},
    "cursor of another direction": lambda c: {
        "before": c,
        "orderBy": [{"field": "CREATED_AT", "direction": "ASC"}],
    },
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
async def test_bad_page_requests_are_refused(
    mock_client: GraphQLClient, own_jobs: list[dict[str, Any]], name: str
) -> None:
    variables = BAD_REQUESTS[name](await _cursor(mock_client))
    body = await mock_client(PAGE, variables)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "spaceoneCode": "ERROR_INVALID_PARAMETER"}
    assert "Traceback" not in error["message"] and "$" not in error["message"]


async def test_a_cursor_of_another_ordering_says_so(
    mock_client: GraphQLClient, own_jobs: list[dict[str, Any]]
) -> None:
    body = await mock_client(PAGE, {"after": await _cursor(mock_client), "orderBy": [{"field": "JOB_ID"}]})
    assert "another ordering" in body["errors"][0]["message"]
