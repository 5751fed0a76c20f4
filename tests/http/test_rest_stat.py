"""``POST /power-scheduler/v1/jobs/stat``: SpaceONE ``JobStatQuery`` JSON in, ``{results,
total_count}`` out, on mongomock-motor and on the wire server. Every expectation is computed in
plain Python from the inserted documents."""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import mean
from typing import Any

import httpx
import pytest

from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, Backend, seed
from tests.factories import iso
from tests.stats_support import Seeded, seeded

STAT = "/power-scheduler/v1/jobs/stat"


@pytest.fixture
async def data(backend: Backend) -> Seeded:
    return await seeded(backend.client, backend.db)


async def stat(data: Seeded, query: dict[str, Any], domain: str = DOMAIN) -> dict[str, Any]:
    response = await data.client.http.post(STAT, json={"query": query, "domain_id": domain})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_spec_example_counts_per_status_most_first(data: Seeded) -> None:
    body = await stat(
        data,
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "status", "name": "status"}],
                        "fields": [{"operator": "count", "name": "count"}],
                    }
                },
                {"sort": {"key": "count", "desc": True}},
            ]
        },
    )
    counts = Counter(job["status"] for job in data.mine)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))  # ties by key
    assert body == {"results": [{"status": s, "count": n} for s, n in ordered]}


async def test_group_by_a_date_with_conditions_and_iso_dates(data: Seeded) -> None:
    body = await stat(
        data,
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"}],
                        "fields": [
                            {"operator": "count", "name": "jobs"},
                            {
                                "operator": "count",
                                "name": "failed",
                                "conditions": [{"key": "status", "value": "ERROR", "operator": "eq"}],
                            },
                            {
                                "operator": "sum",
                                "key": "total_tasks",
                                "name": "big_tasks",
                                "conditions": [
                                    {"k": "total_tasks", "v": 10, "o": "gt"},
                                    {"k": "status", "v": "CREATED", "o": "not"},
                                ],
                            },
                            {"operator": "average", "key": "remained_tasks", "name": "avg_remained"},
                            {"operator": "max", "key": "created_at", "name": "latest"},
                            {"operator": "min", "key": "finished_at", "name": "first_finished"},
                        ],
                    }
                },
                {"sort": {"key": "day"}},
            ]
        },
    )
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in data.mine:
        days[job["created_at"].strftime("%Y-%m-%d")].append(job)
    assert [row["day"] for row in body["results"]] == sorted(days)
    assert "total_count" not in body
    for row in body["results"]:
        jobs = days[row["day"]]
        finished = [j["finished_at"] for j in jobs if j["finished_at"] is not None]
        assert row["jobs"] == len(jobs)
        assert row["failed"] == sum(1 for j in jobs if j["status"] == "ERROR")
        assert row["big_tasks"] == sum(
            j["total_tasks"] for j in jobs if j["total_tasks"] > 10 and j["status"] != "CREATED"
        )
        assert row["avg_remained"] == pytest.approx(mean(j["remained_tasks"] for j in jobs))
        assert row["latest"] == iso(max(j["created_at"] for j in jobs))
        assert row["first_finished"] == (iso(min(finished)) if finished else None)


async def test_group_by_month_keeps_jobs_without_the_date_apart(data: Seeded) -> None:
    body = await stat(
        data,
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "finished_at", "name": "month", "dateFormat": "month"}],
                        "fields": [{"operator": "count", "name": "n"}],
                    }
                },
            ]
        },
    )
    expected = Counter(j["finished_at"].month if j["finished_at"] else None for j in data.mine)
    assert {row["month"]: row["n"] for row in body["results"]} == expected


async def test_errors_unwound_and_grouped_by_error_code(data: Seeded) -> None:
    body = await stat(
        data,
        {
            "aggregate": [
                {"unwind": {"path": "errors"}},
                {
                    "group": {
                        "keys": [{"key": "errors.error_code", "name": "error_code"}],
                        "fields": [
                            {"operator": "count", "name": "n"},
                            {"operator": "add_to_set", "key": "job_id", "name": "jobs"},
                        ],
                    }
                },
                {"sort": {"keys": [{"key": "n", "desc": True}, {"key": "error_code"}]}},
            ]
        },
    )
    counts: Counter[str] = Counter()
    jobs: dict[str, set[str]] = defaultdict(set)
    for job in data.mine:
        for error in job["errors"]:
            counts[error["error_code"]] += 1
            jobs[error["error_code"]].add(job["job_id"])
    ordered = sorted(counts, key=lambda code: (-counts[code], code))
    assert [(row["error_code"], row["n"]) for row in body["results"]] == [
        (code, counts[code]) for code in ordered
    ]
    assert {row["error_code"]: set(row["jobs"]) for row in body["results"]} == jobs


async def test_filters_keyword_push_project_skip_and_limit(data: Seeded) -> None:
    body = await stat(
        data,
        {
            "filter": [{"k": "total_tasks", "v": 3, "o": "gte"}],
            "filterOr": [
                {"k": "status", "v": ["ERROR", "SUCCESS"], "o": "in"},
                {"k": "project_id", "v": "project-x", "o": "eq"},
            ],
            "keyword": "job-",
            "aggregate": [
                {"sort": {"keys": [{"key": "created_at"}, {"key": "job_id"}]}},
                {
                    "group": {
                        "keys": [{"key": "project_id", "name": "project"}],
                        "fields": [
                            {
                                "operator": "push",
                                "name": "pairs",
                                "fields": [{"key": "job_id", "name": "id"}, {"key": "status", "name": "s"}],
                            },
                            {"operator": "sum", "key": "total_tasks", "name": "total"},
                            {"operator": "count", "name": "n"},
                        ],
                    }
                },
                {
                    "project": {
                        "fields": [
                            {"key": "pairs", "name": "size", "operator": "size"},
                            {
                                "key": "total",
                                "name": "per_job",
                                "operator": "divide",
                                "operands": [{"key": "n"}],
                            },
                            {"key": "pairs", "name": "pairs"},
                        ],
                        "exclude_keys": False,
                    }
                },
                {"sort": {"key": "project"}},
                {"skip": 0},
                {"limit": 1},
            ],
        },
    )
    kept = sorted(
        (
            j
            for j in data.mine
            if j["total_tasks"] >= 3 and (j["status"] in ("ERROR", "SUCCESS") or j["project_id"] == "project-x")
        ),
        key=lambda j: (j["created_at"], j["job_id"]),
    )
    first = min(j["project_id"] for j in kept)
    jobs = [j for j in kept if j["project_id"] == first]
    assert body["results"] == [
        {
            "project": first,
            "size": len(jobs),
            "per_job": pytest.approx(sum(j["total_tasks"] for j in jobs) / len(jobs)),
            "pairs": [{"id": j["job_id"], "s": j["status"]} for j in jobs],
        }
    ]


async def test_distinct_values(data: Seeded) -> None:
    assert await stat(data, {"distinct": "status"}) == {"results": sorted({j["status"] for j in data.mine})}
    codes = {e["error_code"] for j in data.mine for e in j["errors"]}
    assert await stat(data, {"distinct": "errors.error_code"}) == {"results": sorted(codes)}


async def test_page_gives_total_count_before_paging(data: Seeded) -> None:
    body = await stat(
        data,
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"}],
                        "fields": [{"operator": "count", "name": "n"}],
                    }
                },
                {"sort": {"key": "day"}},
            ],
            "page": {"start": 3, "limit": 4},
        },
    )
    days = Counter(j["created_at"].strftime("%Y-%m-%d") for j in data.mine)
    assert body == {"results": [{"day": d, "n": days[d]} for d in sorted(days)[2:6]], "total_count": len(days)}
    projects = sorted({j["project_id"] for j in data.mine})
    assert await stat(data, {"distinct": "project_id", "page": {"limit": 1}}) == {
        "results": projects[:1],
        "total_count": len(projects),
    }


async def test_another_domains_jobs_never_count(data: Seeded) -> None:
    query = {
        "aggregate": [
            {
                "group": {
                    "keys": [{"key": "domain_id", "name": "domain"}],
                    "fields": [{"operator": "count", "name": "n"}],
                }
            }
        ]
    }
    assert await stat(data, query) == {"results": [{"domain": DOMAIN, "n": len(data.mine)}]}
    others = [j for j in data.jobs if j["domain_id"] == OTHER_DOMAIN]
    assert await stat(data, query, OTHER_DOMAIN) == {"results": [{"domain": OTHER_DOMAIN, "n": len(others)}]}


async def test_the_rest_answer_equals_the_graphql_answer(data: Seeded) -> None:
    rest_query = {
        "filter": [{"key": "created_at", "value": "2026-09-20T00:00:00Z", "operator": "datetime_lt"}],
        "filter_or": [{"k": "status", "v": "ERROR", "o": "eq"}, {"k": "total_tasks", "v": 12, "o": "gt"}],
        "aggregate": [
            {
                "group": {
                    "keys": [
                        {"key": "status", "name": "status"},
                        {"key": "updated_at", "name": "week", "date_format": "%G-W%V"},
                    ],
                    "fields": [
                        {"operator": "count", "name": "n"},
                        {
                            "operator": "sum",
                            "key": "remained_tasks",
                            "name": "left",
                            "conditions": [{"k": "finished_at", "v": None, "o": "not"}],
                        },
                        {"operator": "last", "key": "finished_at", "name": "finished"},
                        {"operator": "merge_objects", "key": "filter", "name": "filters"},
                    ],
                }
            },
            {
                "project": {
                    "fields": [
                        {"key": "n", "name": "n"},
                        {
                            "key": "left",
                            "name": "left_per_job",
                            "operator": "divide",
                            "operands": [{"key": "n"}],
                        },
                        {"key": "filters", "name": "filters", "operator": "object_to_array"},
                        {"key": "finished", "name": "finished"},
                    ]
                }
            },
            {"sort": {"keys": [{"key": "week", "desc": True}, {"key": "status"}]}},
        ],
        "page": {"start": 2, "limit": 5},
    }
    graphql_query = {
        "filter": [{"k": "created_at", "v": "2026-09-20T00:00:00Z", "o": "DATETIME_LT"}],
        "filterOr": [{"k": "status", "v": "ERROR", "o": "EQ"}, {"k": "total_tasks", "v": 12, "o": "GT"}],
        "aggregate": [
            {
                "group": {
                    "keys": [
                        {"key": "status", "name": "status"},
                        {"key": "updated_at", "name": "week", "dateFormat": "%G-W%V"},
                    ],
                    "fields": [
                        {"operator": "COUNT", "name": "n"},
                        {
                            "operator": "SUM",
                            "key": "remained_tasks",
                            "name": "left",
                            "conditions": [{"k": "finished_at", "v": None, "o": "NOT"}],
                        },
                        {"operator": "LAST", "key": "finished_at", "name": "finished"},
                        {"operator": "MERGE_OBJECTS", "key": "filter", "name": "filters"},
                    ],
                }
            },
            {
                "project": {
                    "fields": [
                        {"key": "n", "name": "n"},
                        {
                            "key": "left",
                            "name": "left_per_job",
                            "operator": "DIVIDE",
                            "operands": [{"key": "n"}],
                        },
                        {"key": "filters", "name": "filters", "operator": "OBJECT_TO_ARRAY"},
                        {"key": "finished", "name": "finished"},
                    ]
                }
            },
            {"sort": {"keys": [{"key": "week", "desc": True}, {"key": "status"}]}},
        ],
        "page": {"start": 2, "limit": 5},
    }
    rest = await stat(data, rest_query)
    graphql = await data.stats(graphql_query)
    assert "errors" not in graphql, graphql
    answer = graphql["data"]["jobStats"]
    assert rest == {"results": answer["results"], "total_count": answer["totalCount"]}
    assert rest["results"]  # the comparison is about real rows
    kept = {
        (j["status"], j["updated_at"].strftime("%G-W%V"))
        for j in data.mine
        if j["created_at"].isoformat() < "2026-09-20" and (j["status"] == "ERROR" or j["total_tasks"] > 12)
    }
    assert rest["total_count"] == len(kept)


# bad input (the compiler runs before any read: the in-process app is enough) ----------------

GROUP_COUNT = {
    "group": {"keys": [{"key": "status", "name": "status"}], "fields": [{"operator": "count", "name": "n"}]}
}


def _query(query: dict[str, Any]) -> dict[str, Any]:
    return {"query": query, "domain_id": DOMAIN}


@pytest.mark.parametrize(
    ("body", "code", "named"),
    [
        (_query({}), "ERROR_REQUIRED_PARAMETER", "aggregate"),
        (_query({"aggregate": []}), "ERROR_REQUIRED_PARAMETER", "aggregate"),
        (_query({"aggregate": [{}]}), "ERROR_REQUIRED_PARAMETER", "aggregate[0]"),
        (_query({"aggregate": [{"lookup": {"from": "controller"}}]}), "ERROR_INVALID_PARAMETER", "lookup"),
        (_query({"aggregate": [{"limit": 1, "skip": 1}]}), "ERROR_INVALID_PARAMETER", "'skip'"),
        (
            _query({"aggregate": [{"count": {"name": "n"}, "group": {}}]}),
            "ERROR_INVALID_PARAMETER",
            "aggregate[0]",
        ),
        (_query({"aggregate": {"group": {}}}), "ERROR_INVALID_PARAMETER", "query.aggregate"),
        (_query({"aggregate": [{"group": {}}]}), "ERROR_REQUIRED_PARAMETER", "aggregate[0].group"),
        (
            _query({"aggregate": [{"group": {"fields": [{"operator": "count"}]}}]}),
            "ERROR_REQUIRED_PARAMETER",
            "aggregate[0].group.fields[0].name",
        ),
        (
            _query({"aggregate": [{"group": {"fields": [{"name": "n"}]}}]}),
            "ERROR_REQUIRED_PARAMETER",
            "aggregate[0].group.fields[0].operator",
        ),
        (
            _query({"aggregate": [{"group": {"fields": [{"operator": "function", "name": "n"}]}}]}),
            "ERROR_DB_QUERY",
            "function",
        ),
        (
            _query({"aggregate": [{"group": {"fields": [{"operator": 7, "name": "n"}]}}]}),
            "ERROR_INVALID_PARAMETER",
            "aggregate[0].group.fields[0].operator",
        ),
        (
            _query({"aggregate": [{"group": {"fields": [{"operator": "sum", "name": "n"}]}}]}),
            "ERROR_REQUIRED_PARAMETER",
            "key",
        ),
        (
            _query({"aggregate": [{"group": {"keys": "status"}}]}),
            "ERROR_INVALID_PARAMETER",
            "aggregate[0].group.keys",
        ),
        (
            _query({"aggregate": [{"group": {"keys": [{"key": "status", "name": "s", "as": 1}]}}]}),
            "ERROR_INVALID_PARAMETER",
            "'as'",
        ),
        (
            _query(
                {"aggregate": [{"group": {"keys": [{"key": "created_at", "name": "d", "date_format": 4}]}}]}
            ),
            "ERROR_INVALID_PARAMETER",
            "date_format",
        ),
        (
            _query({"aggregate": [{"group": {"keys": [{"key": "$domain_id", "name": "d"}]}}]}),
            "ERROR_DB_QUERY",
            "$domain_id",
        ),
        (
            _query(
                {
                    "aggregate": [
                        {
                            "group": {
                                "fields": [
                                    {
                                        "operator": "count",
                                        "name": "n",
                                        "conditions": [{"k": "status", "v": "x", "o": "has_elements"}],
                                    }
                                ]
                            }
                        }
                    ]
                }
            ),
            "ERROR_DB_QUERY",
            "has_elements",
        ),
        (
            _query(
                {
                    "aggregate": [
                        {
                            "group": {
                                "fields": [
                                    {
                                        "operator": "count",
                                        "name": "n",
                                        "conditions": [{"k": "status", "v": "x", "o": "contain"}],
                                    }
                                ]
                            }
                        }
                    ]
                }
            ),
            "ERROR_DB_QUERY",
            "contain",
        ),
        (
            _query({"filter": [{"k": "job_id", "v": "job", "o": "starts_with"}], "aggregate": [GROUP_COUNT]}),
            "ERROR_DB_QUERY",
            "starts_with",
        ),
        (_query({"aggregate": [GROUP_COUNT, {"sort": {"key": "job_id"}}]}), "ERROR_DB_QUERY", "job_id"),
        (_query({"aggregate": [{"unwind": {}}]}), "ERROR_REQUIRED_PARAMETER", "unwind"),
        (_query({"aggregate": [{"unwind": {"path": "status"}}]}), "ERROR_INVALID_PARAMETER", "status"),
        (_query({"aggregate": [{"count": {}}]}), "ERROR_REQUIRED_PARAMETER", "count.name"),
        (_query({"aggregate": [{"limit": "many"}]}), "ERROR_INVALID_PARAMETER", "limit"),
        (_query({"aggregate": [{"skip": -1}]}), "ERROR_INVALID_PARAMETER", "skip"),
        (
            _query(
                {
                    "aggregate": [
                        GROUP_COUNT,
                        {
                            "project": {
                                "fields": [
                                    {"key": "n", "name": "r", "operator": "divide", "operands": [{"value": 0}]}
                                ]
                            }
                        },
                    ]
                }
            ),
            "ERROR_INVALID_PARAMETER",
            "division by zero",
        ),
        (
            _query(
                {
                    "aggregate": [
                        GROUP_COUNT,
                        {
                            "project": {
                                "fields": [
                                    {"key": "n", "name": "r", "operator": "add", "operands": [{"value": "1"}]}
                                ]
                            }
                        },
                    ]
                }
            ),
            "ERROR_INVALID_PARAMETER",
            "value",
        ),
        (_query({"aggregate": [GROUP_COUNT], "distinct": "status"}), "ERROR_INVALID_PARAMETER", "distinct"),
        (_query({"distinct": "nope"}), "ERROR_DB_QUERY", "nope"),
        (_query({"distinct": ["status"]}), "ERROR_INVALID_PARAMETER", "query.distinct"),
        (_query({"distinct": "status", "sort": {"key": "status"}}), "ERROR_INVALID_PARAMETER", "sort"),
        (_query({"distinct": "status", "page": {"limit": 100_000}}), "ERROR_INVALID_PARAMETER", "page.limit"),
        (_query({"aggregate": [{"limit": 1}] * 21}), "ERROR_QUERY_TOO_COMPLEX", "GATEWAY_STATS_MAX_STAGES"),
        ({"query": {"distinct": "status"}}, "ERROR_REQUIRED_PARAMETER", "domain"),
        (
            {"query": {"distinct": "status"}, "domain_id": DOMAIN, "status": "ERROR"},
            "ERROR_INVALID_PARAMETER",
            "status",
        ),
        ([1, 2], "ERROR_INVALID_PARAMETER", "request"),
    ],
)
async def test_bad_stat_queries_are_spaceone_errors_naming_the_key(
    http: httpx.AsyncClient, body: Any, code: str, named: str
) -> None:
    response = await http.post(STAT, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert named in error["message"]


async def test_a_stat_body_that_is_not_json_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post(STAT, content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ERROR_INVALID_PARAMETER"


async def test_a_stored_nan_comes_out_as_null_as_over_graphql(http: httpx.AsyncClient, mock_db: Any) -> None:
    await seed(
        mock_db,
        [
            factories.job(DOMAIN, total_tasks=float("nan"), status="ERROR"),
            factories.job(DOMAIN, total_tasks=4, status="SUCCESS"),
        ],
    )
    query = {
        "aggregate": [
            {
                "group": {
                    "keys": [{"key": "status", "name": "status"}],
                    "fields": [{"operator": "sum", "key": "total_tasks", "name": "tasks"}],
                }
            },
            {"sort": {"key": "status"}},
        ]
    }
    response = await http.post(STAT, json={"query": query, "domain_id": DOMAIN})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "results": [{"status": "ERROR", "tasks": None}, {"status": "SUCCESS", "tasks": 4}]
    }
