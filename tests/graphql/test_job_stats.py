"""jobStats end to end on mongomock-motor and on the wire server (SecantusDB through Motor),
every expectation computed in plain Python from the inserted documents."""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import mean
from typing import Any

import pytest

from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, Backend, seed
from tests.factories import iso
from tests.stats_support import Seeded, error_of, seeded


@pytest.fixture
async def data(backend: Backend) -> Seeded:
    return await seeded(backend.client, backend.db)


def _by_status(jobs: list[dict[str, Any]]) -> Counter[str]:
    return Counter(job["status"] for job in jobs)


async def test_the_spec_example_counts_per_status_most_first(data: Seeded) -> None:
    rows = await data.rows(
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "status", "name": "status"}],
                        "fields": [{"operator": "COUNT", "name": "count"}],
                    }
                },
                {"sort": {"key": "count", "desc": True}},
            ]
        }
    )
    counts = _by_status(data.mine)
    assert [row["count"] for row in rows] == sorted(counts.values(), reverse=True)
    assert {row["status"]: row["count"] for row in rows} == counts


async def test_every_group_operator(data: Seeded) -> None:
    rows = await data.rows(
        {
            "aggregate": [
                {"sort": {"keys": [{"key": "created_at"}, {"key": "job_id"}]}},
                {
                    "group": {
                        "keys": [{"key": "projectId", "name": "project"}],
                        "fields": [
                            {"operator": "COUNT", "name": "jobs"},
                            {"operator": "SUM", "key": "total_tasks", "name": "tasks"},
                            {"operator": "AVERAGE", "key": "remained_tasks", "name": "avg_remained"},
                            {"operator": "MAX", "key": "created_at", "name": "latest"},
                            {"operator": "MIN", "key": "created_at", "name": "earliest"},
                            {"operator": "FIRST", "key": "job_id", "name": "first_job"},
                            {"operator": "LAST", "key": "job_id", "name": "last_job"},
                            {"operator": "ADD_TO_SET", "key": "status", "name": "statuses"},
                            {"operator": "MERGE_OBJECTS", "key": "filter", "name": "merged"},
                            {"operator": "PUSH", "key": "total_tasks", "name": "all_tasks"},
                            {
                                "operator": "PUSH",
                                "name": "pairs",
                                "fields": [{"key": "job_id", "name": "id"}, {"key": "status", "name": "s"}],
                            },
                        ],
                    }
                },
                {"sort": {"key": "project"}},
            ]
        }
    )
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in sorted(data.mine, key=lambda j: (j["created_at"], j["job_id"])):
        groups[job["project_id"]].append(job)
    assert [row["project"] for row in rows] == sorted(groups)
    for row in rows:
        jobs = groups[row["project"]]
        merged: dict[str, Any] = {}
        for job in jobs:
            merged.update(job.get("filters") or {})
        assert row["jobs"] == len(jobs)
        assert row["tasks"] == sum(j["total_tasks"] for j in jobs)
        assert row["avg_remained"] == pytest.approx(mean(j["remained_tasks"] for j in jobs))
        assert row["latest"] == iso(max(j["created_at"] for j in jobs))
        assert row["earliest"] == iso(min(j["created_at"] for j in jobs))
        assert row["first_job"] == jobs[0]["job_id"]
        assert row["last_job"] == jobs[-1]["job_id"]
        assert sorted(row["statuses"]) == sorted({j["status"] for j in jobs})
        assert row["merged"] == merged
        assert row["all_tasks"] == [j["total_tasks"] for j in jobs]
        assert row["pairs"] == [{"id": j["job_id"], "s": j["status"]} for j in jobs]


async def test_conditional_count_sum_and_average(data: Seeded) -> None:
    rows = await data.rows(
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "schedule_id", "name": "schedule"}],
                        "fields": [
                            {
                                "operator": "COUNT",
                                "name": "ok",
                                "conditions": [{"k": "status", "v": "SUCCESS", "o": "EQ"}],
                            },
                            {
                                "operator": "SUM",
                                "key": "total_tasks",
                                "name": "big_tasks",
                                "conditions": [
                                    {"k": "total_tasks", "v": 10, "o": "GT"},
                                    {"k": "status", "v": "CREATED", "o": "NOT"},
                                ],
                            },
                            {
                                "operator": "AVERAGE",
                                "key": "total_tasks",
                                "name": "avg_early",
                                "conditions": [{"k": "created_at", "v": "2026-09-15T00:00:00Z", "o": "LT"}],
                            },
                        ],
                    }
                },
            ]
        }
    )
    assert len(rows) == len({j["schedule_id"] for j in data.mine})
    for row in rows:
        jobs = [j for j in data.mine if j["schedule_id"] == row["schedule"]]
        early = [j["total_tasks"] for j in jobs if j["created_at"].isoformat() < "2026-09-15"]
        assert row["ok"] == sum(1 for j in jobs if j["status"] == "SUCCESS")
        assert row["big_tasks"] == sum(
            j["total_tasks"] for j in jobs if j["total_tasks"] > 10 and j["status"] != "CREATED"
        )
        assert row["avg_early"] == (pytest.approx(mean(early)) if early else None)


async def test_errors_unwound_and_grouped_by_error_code(data: Seeded) -> None:
    rows = await data.rows(
        {
            "aggregate": [
                {"unwind": {"path": "errors"}},
                {
                    "group": {
                        "keys": [{"key": "errors.error_code", "name": "code"}],
                        "fields": [
                            {"operator": "COUNT", "name": "n"},
                            {"operator": "ADD_TO_SET", "key": "job_id", "name": "jobs"},
                        ],
                    }
                },
                {"sort": {"key": "code"}},
            ]
        }
    )
    counts: Counter[str] = Counter()
    jobs: dict[str, set[str]] = defaultdict(set)
    for job in data.mine:
        for error in job["errors"]:
            counts[error["error_code"]] += 1
            jobs[error["error_code"]].add(job["job_id"])
    assert [row["code"] for row in rows] == sorted(counts)
    assert {row["code"]: row["n"] for row in rows} == counts
    assert {row["code"]: set(row["jobs"]) for row in rows} == jobs


async def test_a_path_through_the_errors_array_without_unwind(data: Seeded) -> None:
    rows = await data.rows(
        {
            "aggregate": [
                {"sort": {"keys": [{"key": "created_at"}, {"key": "job_id"}]}},
                {
                    "group": {
                        "keys": [{"key": "status", "name": "status"}],
                        "fields": [{"operator": "PUSH", "key": "errors.error_code", "name": "codes"}],
                    }
                },
            ]
        }
    )
    for row in rows:
        jobs = sorted(
            (j for j in data.mine if j["status"] == row["status"]), key=lambda j: (j["created_at"], j["job_id"])
        )
        assert row["codes"] == [[e["error_code"] for e in j["errors"]] for j in jobs]


@pytest.mark.parametrize(
    ("date_format", "expected"),
    [
        ("year", lambda d: d.year),
        ("month", lambda d: d.month),
        ("day", lambda d: d.day),
        ("%Y-%m-%d", lambda d: d.strftime("%Y-%m-%d")),
        ("%Y-%m-%dT%H", lambda d: d.strftime("%Y-%m-%dT%H")),
    ],
)
async def test_group_by_a_date(data: Seeded, date_format: str, expected: Any) -> None:
    rows = await data.rows(
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "finished_at", "name": "when", "dateFormat": date_format}],
                        "fields": [{"operator": "COUNT", "name": "n"}],
                    }
                },
            ]
        }
    )
    counts = Counter(expected(j["finished_at"]) if j["finished_at"] else None for j in data.mine)
    assert {row["when"]: row["n"] for row in rows} == counts


async def test_count_stage_and_count_of_nothing(data: Seeded) -> None:
    rows = await data.rows(
        {"filter": [{"k": "status", "v": "ERROR", "o": "EQ"}], "aggregate": [{"count": {"name": "errors"}}]}
    )
    assert rows == [{"errors": _by_status(data.mine)["ERROR"]}]
    rows = await data.rows(
        {"filter": [{"k": "job_id", "v": "no-such-job", "o": "EQ"}], "aggregate": [{"count": {"name": "n"}}]}
    )
    assert rows == [{"n": 0}]


async def test_project_operators_and_exclude_keys(data: Seeded) -> None:
    rows = await data.rows(
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "status", "name": "status"}],
                        "fields": [
                            {"operator": "PUSH", "key": "total_tasks", "name": "tasks"},
                            {"operator": "SUM", "key": "total_tasks", "name": "total"},
                            {"operator": "SUM", "key": "remained_tasks", "name": "remained"},
                            {"operator": "COUNT", "name": "n"},
                            {"operator": "MERGE_OBJECTS", "key": "filter", "name": "merged"},
                        ],
                    }
                },
                {
                    "project": {
                        "fields": [
                            {"key": "tasks", "name": "size", "operator": "SIZE"},
                            {"key": "tasks", "name": "tasks_sum", "operator": "SUM"},
                            {
                                "key": "total",
                                "name": "plus",
                                "operator": "ADD",
                                "operands": [{"key": "remained"}, {"value": 1}],
                            },
                            {
                                "key": "total",
                                "name": "done",
                                "operator": "SUBTRACT",
                                "operands": [{"key": "remained"}],
                            },
                            {"key": "n", "name": "doubled", "operator": "MULTIPLY", "operands": [{"value": 2}]},
                            {
                                "key": "total",
                                "name": "per_job",
                                "operator": "DIVIDE",
                                "operands": [{"key": "n"}],
                            },
                            {
                                "key": "remained",
                                "name": "ratio",
                                "operator": "DIVIDE",
                                "operands": [{"key": "total"}],
                            },
                            {"name": "both", "operator": "SUM", "operands": [{"key": "total"}, {"key": "n"}]},
                            {"key": "merged", "name": "pairs", "operator": "OBJECT_TO_ARRAY"},
                            {"key": "status", "name": "s"},
                        ]
                    }
                },
                {"sort": {"key": "status"}},
            ]
        }
    )
    statuses = sorted(_by_status(data.mine))
    assert [row["status"] for row in rows] == statuses  # keys kept without excludeKeys
    for row in rows:
        jobs = [j for j in data.mine if j["status"] == row["status"]]
        total = sum(j["total_tasks"] for j in jobs)
        remained = sum(j["remained_tasks"] for j in jobs)
        merged: dict[str, Any] = {}
        for job in jobs:
            merged.update(job.get("filters") or {})
        assert row["size"] == len(jobs)
        assert row["tasks_sum"] == total
        assert row["plus"] == total + remained + 1
        assert row["done"] == total - remained
        assert row["doubled"] == 2 * len(jobs)
        assert row["per_job"] == pytest.approx(total / len(jobs))
        assert row["ratio"] == (pytest.approx(remained / total) if total else None)
        assert row["both"] == total + len(jobs)
        assert row["pairs"] == [{"k": k, "v": v} for k, v in merged.items()]
        assert row["s"] == row["status"]

    rows = await data.rows(
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "status", "name": "status"}],
                        "fields": [{"operator": "COUNT", "name": "n"}],
                    }
                },
                {"project": {"fields": [{"key": "n", "name": "n"}], "excludeKeys": True}},
            ]
        }
    )
    assert sorted(row["n"] for row in rows) == sorted(_by_status(data.mine).values())
    assert all(set(row) == {"n"} for row in rows)


async def test_sort_by_a_group_key_then_skip_and_limit(data: Seeded) -> None:
    rows = await data.rows(
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "status", "name": "status"}, {"key": "project_id", "name": "project"}],
                        "fields": [{"operator": "COUNT", "name": "n"}],
                    }
                },
                {"sort": {"keys": [{"key": "status", "desc": True}, {"key": "project"}]}},
                {"skip": 2},
                {"limit": 3},
            ]
        }
    )
    counts = Counter((j["status"], j["project_id"]) for j in data.mine)
    ordered = sorted(counts, key=lambda k: k[1])
    ordered.sort(key=lambda k: k[0], reverse=True)
    assert [(r["status"], r["project"], r["n"]) for r in rows] == [
        (s, p, counts[(s, p)]) for s, p in ordered[2:5]
    ]


async def test_a_second_group_reads_the_first_groups_keys(data: Seeded) -> None:
    rows = await data.rows(
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "status", "name": "status"}, {"key": "project_id", "name": "project"}],
                        "fields": [{"operator": "COUNT", "name": "n"}],
                    }
                },
                {
                    "group": {
                        "keys": [{"key": "project", "name": "project"}],
                        "fields": [
                            {"operator": "COUNT", "name": "statuses"},
                            {"operator": "MAX", "key": "n", "name": "busiest"},
                        ],
                    }
                },
                {"sort": {"key": "project"}},
            ]
        }
    )
    counts = Counter((j["status"], j["project_id"]) for j in data.mine)
    projects = sorted({p for _, p in counts})
    assert rows == [
        {
            "project": p,
            "statuses": sum(1 for _, q in counts if q == p),
            "busiest": max(n for (_, q), n in counts.items() if q == p),
        }
        for p in projects
    ]


async def test_filters_filter_or_and_keyword_apply_before_the_stages(data: Seeded) -> None:
    target = data.mine[3]["job_id"]
    rows = await data.rows(
        {
            "filter": [{"k": "total_tasks", "v": 5, "o": "GTE"}],
            "filterOr": [
                {"k": "status", "v": "ERROR", "o": "EQ"},
                {"k": "project_id", "v": "project-x", "o": "EQ"},
            ],
            "aggregate": [{"count": {"name": "n"}}],
        }
    )
    assert rows == [
        {
            "n": sum(
                1
                for j in data.mine
                if j["total_tasks"] >= 5 and (j["status"] == "ERROR" or j["project_id"] == "project-x")
            )
        }
    ]
    rows = await data.rows({"keyword": target[-5:].upper(), "aggregate": [{"count": {"name": "n"}}]})
    assert rows == [{"n": sum(1 for j in data.mine if target[-5:] in j["job_id"])}]


async def test_distinct_values_including_a_path_through_errors(data: Seeded) -> None:
    assert await data.rows({"distinct": "status"}) == sorted(_by_status(data.mine))
    codes = {e["error_code"] for j in data.mine for e in j["errors"]}
    assert await data.rows({"distinct": "errors.error_code"}) == sorted(codes)


async def test_page_gives_total_count_before_paging(data: Seeded) -> None:
    body = await data.stats(
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "created_at", "name": "day", "dateFormat": "%Y-%m-%d"}],
                        "fields": [{"operator": "COUNT", "name": "n"}],
                    }
                },
                {"sort": {"key": "day"}},
            ],
            "page": {"start": 3, "limit": 4},
        }
    )
    days = Counter(j["created_at"].strftime("%Y-%m-%d") for j in data.mine)
    result = body["data"]["jobStats"]
    assert result["totalCount"] == len(days)
    assert result["results"] == [{"day": d, "n": days[d]} for d in sorted(days)[2:6]]
    body = await data.stats({"distinct": "project_id", "page": {"limit": 1}})
    assert body["data"]["jobStats"] == {
        "totalCount": len({j["project_id"] for j in data.mine}),
        "results": [min(j["project_id"] for j in data.mine)],
    }


async def test_total_count_of_an_empty_page_is_zero(data: Seeded) -> None:
    body = await data.stats(
        {
            "filter": [{"k": "job_id", "v": "none", "o": "EQ"}],
            "aggregate": [{"group": {"fields": [{"operator": "COUNT", "name": "n"}]}}],
            "page": {"limit": 5},
        }
    )
    assert body["data"]["jobStats"]["totalCount"] == len(body["data"]["jobStats"]["results"])


async def test_total_count_is_null_without_page(data: Seeded) -> None:
    body = await data.stats({"distinct": "status"})
    assert body["data"]["jobStats"]["totalCount"] is None


async def test_raw_rows_never_show_internal_fields(data: Seeded) -> None:
    rows = await data.rows({"aggregate": [{"sort": {"key": "job_id"}}, {"limit": 2}]})
    expected = sorted(data.mine, key=lambda j: j["job_id"])[:2]
    assert [row["job_id"] for row in rows] == [j["job_id"] for j in expected]
    assert all({"_id", "mark_error", "controller"}.isdisjoint(row) for row in rows)


async def test_another_domains_jobs_never_count(data: Seeded) -> None:
    query = {
        "aggregate": [
            {
                "group": {
                    "keys": [{"key": "domain_id", "name": "domain"}],
                    "fields": [{"operator": "COUNT", "name": "n"}],
                }
            }
        ]
    }
    assert await data.rows(query) == [{"domain": DOMAIN, "n": len(data.mine)}]
    body = await data.stats(query, domain=OTHER_DOMAIN)
    others = [j for j in data.jobs if j["domain_id"] == OTHER_DOMAIN]
    assert body["data"]["jobStats"]["results"] == [{"domain": OTHER_DOMAIN, "n": len(others)}]


# bad input -----------------------------------------------------------------------------------

GROUP_COUNT = {
    "group": {"keys": [{"key": "status", "name": "status"}], "fields": [{"operator": "COUNT", "name": "n"}]}
}


@pytest.mark.parametrize(
    ("query", "spaceone_code", "named"),
    [
        ({}, "ERROR_REQUIRED_PARAMETER", "aggregate"),
        ({"aggregate": []}, "ERROR_REQUIRED_PARAMETER", "aggregate"),
        ({"aggregate": [{"group": {}}]}, "ERROR_REQUIRED_PARAMETER", "aggregate[0].group"),
        ({"aggregate": [{"group": {"keys": [{"key": "nope", "name": "x"}]}}]}, "ERROR_DB_QUERY", "nope"),
        (
            {"aggregate": [{"group": {"keys": [{"key": "status", "name": "$x"}]}}]},
            "ERROR_INVALID_PARAMETER",
            "aggregate[0].group.keys[0].name",
        ),
        (
            {"aggregate": [{"group": {"keys": [{"key": "status", "name": "a.b"}]}}]},
            "ERROR_INVALID_PARAMETER",
            "a.b",
        ),
        ({"aggregate": [{"count": {"name": "x\u0000y"}}]}, "ERROR_INVALID_PARAMETER", "count"),
        (
            {"aggregate": [{"group": {"keys": [{"key": "mark_error", "name": "m"}]}}]},
            "ERROR_DB_QUERY",
            "mark_error",
        ),
        (
            {"aggregate": [{"group": {"keys": [{"key": "$domain_id", "name": "m"}]}}]},
            "ERROR_DB_QUERY",
            "$domain_id",
        ),
        ({"aggregate": [{"group": {"keys": [{"key": "_id", "name": "m"}]}}]}, "ERROR_DB_QUERY", "_id"),
        (
            {"aggregate": [{"group": {"keys": [{"key": "controller_id", "name": "c"}]}}]},
            "ERROR_DB_QUERY",
            "controller_id",
        ),
        ({"aggregate": [GROUP_COUNT, {"sort": {"key": "job_id"}}]}, "ERROR_DB_QUERY", "job_id"),
        (
            {
                "aggregate": [
                    GROUP_COUNT,
                    {
                        "project": {
                            "fields": [
                                {"key": "n", "name": "r", "operator": "DIVIDE", "operands": [{"value": 0}]}
                            ]
                        }
                    },
                ]
            },
            "ERROR_INVALID_PARAMETER",
            "division by zero",
        ),
        (
            {
                "aggregate": [
                    {
                        "group": {
                            "fields": [
                                {
                                    "operator": "COUNT",
                                    "name": "n",
                                    "conditions": [{"k": "status", "v": "x", "o": "CONTAIN"}],
                                }
                            ]
                        }
                    }
                ]
            },
            "ERROR_DB_QUERY",
            "contain",
        ),
        (
            {"aggregate": [{"group": {"fields": [{"operator": "SUM", "name": "n"}]}}]},
            "ERROR_REQUIRED_PARAMETER",
            "key",
        ),
        (
            {"aggregate": [{"group": {"keys": [{"key": "created_at", "name": "d", "dateFormat": "%Q"}]}}]},
            "ERROR_INVALID_PARAMETER",
            "dateFormat",
        ),
        ({"aggregate": [{"limit": 0}]}, "ERROR_INVALID_PARAMETER", "limit"),
        ({"aggregate": [GROUP_COUNT], "distinct": "status"}, "ERROR_INVALID_PARAMETER", "distinct"),
        ({"distinct": "nope"}, "ERROR_DB_QUERY", "nope"),
        (
            {"filter": [{"k": "status", "v": ["A"], "o": "EQ"}], "distinct": "status"},
            "ERROR_OPERATOR_VALUE_TYPE",
            "status",
        ),
    ],
)
async def test_bad_statistics_queries_are_refused_with_a_code(
    data: Seeded, query: dict[str, Any], spaceone_code: str, named: str
) -> None:
    error = error_of(await data.stats(query))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["spaceoneCode"] == spaceone_code
    assert named in error["message"]


@pytest.mark.parametrize("stage", [{}, {"limit": 1, "skip": 1}, {"count": {"name": "n"}, "group": {}}])
async def test_a_stage_with_no_kind_or_two_kinds_is_refused(data: Seeded, stage: dict[str, Any]) -> None:
    error = error_of(await data.stats({"aggregate": [stage]}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "AggregateStage" in error["message"]


async def test_an_unknown_group_operator_is_refused(data: Seeded) -> None:
    error = error_of(
        await data.stats({"aggregate": [{"group": {"fields": [{"operator": "FUNCTION", "name": "n"}]}}]})
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "FUNCTION" in error["message"]


async def test_missing_domain_is_a_required_parameter(data: Seeded) -> None:
    error = error_of(await data.client('{ jobStats(query: {distinct: "status"}) { results } }'))
    assert error["extensions"]["spaceoneCode"] == "ERROR_REQUIRED_PARAMETER"


async def test_distinct_returns_null_as_a_value_and_skips_jobs_without_the_field(backend: Backend) -> None:
    jobs = [factories.job(DOMAIN, project_id=project) for project in ("p-2", None, "p-1", None, "p-2")]
    jobs += [factories.job(DOMAIN, project_id="p-3"), factories.job(OTHER_DOMAIN, project_id=None)]
    del jobs[-2]["project_id"]  # a job without the field at all
    await seed(backend.db, jobs)
    present = [job["project_id"] for job in jobs if job["domain_id"] == DOMAIN and "project_id" in job]
    # MongoDB orders null before text; jobs without the field give no value (as `distinct` does)
    expected = [None] * (None in present) + sorted({p for p in present if p is not None})
    query = (
        'query($q: StatisticsQuery!) { jobStats(domainId: "%s", query: $q) { results totalCount } }' % DOMAIN
    )
    body = await backend.client(query, {"q": {"distinct": "project_id"}})
    assert body == {"data": {"jobStats": {"results": expected, "totalCount": None}}}
    body = await backend.client(query, {"q": {"distinct": "projectId", "page": {"limit": 2}}})
    assert body["data"]["jobStats"] == {"results": expected[:2], "totalCount": len(expected)}
    response = await backend.client.http.post(
        "/power-scheduler/v1/jobs/stat", json={"domain_id": DOMAIN, "query": {"distinct": "project_id"}}
    )
    assert response.json() == {"results": expected}
