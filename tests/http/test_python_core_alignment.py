"""Where the gateway follows python-core's compiler (issue: SpaceONE's own compiler as the
reference), and the deviations it keeps, one test each; expected rows computed in plain Python
from the inserted documents (docs/query-semantics.md, docs/statistics.md)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bson import ObjectId

from tests import factories
from tests.conftest import DOMAIN, seed
from tests.oracle.deviations import DEVIATIONS
from tests.search_checks import newest_first

SEARCH = "/power-scheduler/v1/jobs/search"
STAT = "/power-scheduler/v1/jobs/stat"
Doc = dict[str, Any]


@pytest.fixture
async def data(mock_db: Any) -> dict[str, Any]:
    mine = factories.controller(DOMAIN, provider="aws")
    other = factories.controller(DOMAIN, provider="azure")
    now = datetime.now(UTC).replace(tzinfo=None)
    jobs = [
        factories.job(
            DOMAIN,
            job_id="job-aa0000000001",
            controller=mine["_id"],
            status="ERROR",
            errors=[factories.error("E_B"), factories.error("E_Z")],
            total_tasks=5,
            schedule_id=None,
        ),
        factories.job(
            DOMAIN,
            job_id="job-bb0000000002",
            controller=other["_id"],
            status="ERROR",
            errors=[factories.error("E_A")],
            total_tasks=6,
            filters={"region": "b"},
        ),
        factories.job(
            DOMAIN,
            job_id="job-aa\tbb000003",
            controller=None,
            total_tasks=7,
            created_at=now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(hours=1),
        ),
        factories.job(
            DOMAIN,
            job_id="job-cc0000000004",
            controller=ObjectId(),
            total_tasks=8,  # deleted controller
            created_at=now,
            filters={"region": "a"},
        ),
    ]
    del jobs[3]["schedule_id"]
    await seed(mock_db, jobs, [mine, other])
    return {"jobs": jobs, "mine": mine, "other": other}


async def search(http: httpx.AsyncClient, query: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(SEARCH, json={"query": query, "domain_id": DOMAIN})
    body: dict[str, Any] = response.json()
    return body


def ids(docs: list[Doc]) -> list[str]:
    return [doc["job_id"] for doc in docs]


def result_ids(body: dict[str, Any]) -> list[str]:
    assert "results" in body, body
    return [row["job_id"] for row in body["results"]]


# followed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "keep"),
    [
        ({"k": "controller_id", "o": "not"}, lambda job, d: job["controller"] != d["mine"]["_id"]),
        (
            {"k": "controller_info.provider", "v": ["aws"], "o": "not_in"},
            lambda job, d: job["controller"] != d["mine"]["_id"],
        ),
        ({"k": "controller_id", "v": None, "o": "eq"}, lambda job, d: job["controller"] is None),
        ({"k": "controller_id", "v": None, "o": "not"}, lambda job, d: job["controller"] is not None),
        ({"k": "controller_info.provider", "v": None, "o": "eq"}, lambda job, d: job["controller"] is None),
    ],
)
async def test_controller_negations_and_nulls_as_python_core(
    http: httpx.AsyncClient, data: dict[str, Any], condition: dict[str, Any], keep: Any
) -> None:
    condition = {"v": data["mine"]["controller_id"], **condition}
    body = await search(http, {"filter": [condition]})
    assert result_ids(body) == ids([job for job in newest_first(data["jobs"]) if keep(job, data)])


async def test_keyword_splits_on_the_space_character_only(
    http: httpx.AsyncClient, data: dict[str, Any]
) -> None:
    body = await search(http, {"keyword": " aa\tbb  cc0 "})
    words = ["aa\tbb", "cc0"]
    expected = [job for job in newest_first(data["jobs"]) if any(w in job["job_id"] for w in words)]
    assert result_ids(body) == ids(expected) and len(expected) == 2


async def test_page_start_counts_only_with_a_limit(http: httpx.AsyncClient, data: dict[str, Any]) -> None:
    everything = ids(newest_first(data["jobs"]))
    assert result_ids(await search(http, {"page": {"start": 3}})) == everything
    assert result_ids(await search(http, {"page": {"start": 3, "limit": 0}})) == everything
    assert result_ids(await search(http, {"page": {"start": 3, "limit": 1}})) == everything[2:3]


async def test_sort_by_error_codes_and_filter_paths(http: httpx.AsyncClient, data: dict[str, Any]) -> None:
    failed = [job for job in data["jobs"] if job["status"] == "ERROR"]
    body = await search(
        http, {"filter": [{"k": "status", "v": "ERROR", "o": "eq"}], "sort": [{"key": "errors.error_code"}]}
    )
    by_least = sorted(failed, key=lambda job: min(e["error_code"] for e in job["errors"]))
    assert result_ids(body) == ids(by_least)
    body = await search(
        http,
        {
            "filter": [{"k": "status", "v": "ERROR", "o": "eq"}],
            "sort": [{"key": "errors.error_code", "desc": True}],
        },
    )
    by_greatest = sorted(failed, key=lambda job: max(e["error_code"] for e in job["errors"]), reverse=True)
    assert result_ids(body) == ids(by_greatest)
    regions = [job for job in data["jobs"] if job["filters"]["region"] in ("a", "b")]
    body = await search(
        http,
        {"filter": [{"k": "filter.region", "v": ["a", "b"], "o": "in"}], "sort": [{"key": "filter.region"}]},
    )
    assert result_ids(body) == ids(sorted(regions, key=lambda job: job["filters"]["region"]))


async def test_match_of_an_empty_object_is_any_error(http: httpx.AsyncClient, data: dict[str, Any]) -> None:
    body = await search(http, {"filter": [{"k": "errors", "v": {}, "o": "match"}]})
    assert result_ids(body) == ids([job for job in newest_first(data["jobs"]) if job["errors"]])


async def test_time_expressions_and_dates_as_python_core_reads_them(
    http: httpx.AsyncClient, data: dict[str, Any]
) -> None:
    month = datetime.now(UTC).replace(tzinfo=None, day=1, hour=0, minute=0, second=0, microsecond=0)
    body = await search(http, {"filter": [{"k": "created_at", "v": "now/m", "o": "timediff_lt"}]})
    assert result_ids(body) == ids([job for job in newest_first(data["jobs"]) if job["created_at"] < month])
    first = f"{month.year:04d}-{month.month:02d}"  # `YYYY-MM`: the 1st of the month
    body = await search(
        http, {"filter": [{"k": "created_at", "v": first.lower() + "-01t00:00z", "o": "datetime_lt"}]}
    )
    assert result_ids(body) == ids([job for job in newest_first(data["jobs"]) if job["created_at"] < month])
    body = await search(http, {"filter": [{"k": "created_at", "v": first, "o": "datetime_gte"}]})
    assert result_ids(body) == ids([job for job in newest_first(data["jobs"]) if job["created_at"] >= month])
    for refused in ("NOW - 1d", "now  - 1d", "now | 1d"):
        body = await search(http, {"filter": [{"k": "created_at", "v": refused, "o": "timediff_gt"}]})
        assert body["error"]["code"] == "ERROR_DB_QUERY", refused


@pytest.mark.parametrize(
    "condition",
    [
        {"k": "total_tasks", "v": "now", "o": "timediff_gt"},
        {"k": "remained_tasks", "v": "2026-09-01", "o": "datetime_lt"},
        {"k": "job_id", "v": None, "o": "contain"},
        {"k": "job_id", "v": 5, "o": "regex"},
        {"k": "job_id", "v": None, "o": "regex"},
        {"k": "errors", "v": 1, "o": "eq"},
    ],
)
async def test_refusals_with_python_cores_code(
    http: httpx.AsyncClient, data: dict[str, Any], condition: dict[str, Any]
) -> None:
    body = await search(http, {"filter": [condition]})
    assert body["error"]["code"] == "ERROR_DB_QUERY"


async def test_a_group_key_missing_from_a_group_stays_missing(
    http: httpx.AsyncClient, data: dict[str, Any]
) -> None:
    query = {
        "aggregate": [
            {
                "group": {
                    "keys": [{"key": "schedule_id", "name": "schedule"}],
                    "fields": [{"operator": "count", "name": "n"}],
                }
            }
        ]
    }
    response = await http.post(STAT, json={"query": query, "domain_id": DOMAIN})
    missing = object()
    counts = Counter(job.get("schedule_id", missing) for job in data["jobs"])
    expected = [{"n": n} if key is missing else {"schedule": key, "n": n} for key, n in counts.items()]
    assert sorted(map(repr, response.json()["results"])) == sorted(map(repr, expected))


async def test_a_statistics_page_without_a_limit_is_ignored(
    http: httpx.AsyncClient, data: dict[str, Any]
) -> None:
    query = {"aggregate": [{"count": {"name": "n"}}], "page": {"start": 2}}
    response = await http.post(STAT, json={"query": query, "domain_id": DOMAIN})
    assert response.json() == {"results": [{"n": len(data["jobs"])}]}


async def test_statistics_date_conditions_compare_dates(http: httpx.AsyncClient, data: dict[str, Any]) -> None:
    since = datetime(2026, 10, 1)
    query = {
        "aggregate": [
            {
                "group": {
                    "keys": [],
                    "fields": [
                        {
                            "operator": "count",
                            "name": "n",
                            "conditions": [{"k": "created_at", "v": "2026-10-01T00:00:00Z", "o": "gte"}],
                        }
                    ],
                }
            }
        ]
    }
    response = await http.post(STAT, json={"query": query, "domain_id": DOMAIN})
    expected = sum(job["created_at"] >= since for job in data["jobs"])
    assert response.json() == {"results": [{"n": expected}]} and 0 < expected < len(data["jobs"])


# kept deviations -------------------------------------------------------------------------------


KEPT: dict[str, tuple[dict[str, Any], Any]] = {
    "not_contain_in_none_of": (
        {"filter": [{"k": "job_id", "v": ["aa", "bb"], "o": "not_contain_in"}]},
        lambda jobs: [j for j in jobs if "aa" not in j["job_id"] and "bb" not in j["job_id"]],
    ),
    "keyword_and": (
        {"keyword": "aa", "filter_or": [{"k": "status", "v": "ERROR", "o": "eq"}]},
        lambda jobs: [j for j in jobs if "aa" in j["job_id"] and j["status"] == "ERROR"],
    ),
    "controller_regex": (
        {"filter": [{"k": "controller_info.provider", "v": "^aw", "o": "regex"}]},
        lambda jobs: jobs[-1:],
    ),
    "regex_on_renamed_paths": (
        {"filter": [{"k": "filter.region", "v": "^[ab]$", "o": "regex"}]},
        lambda jobs: [j for j in jobs if j["filters"]["region"] in ("a", "b")],
    ),
    "whole_numbers_compared_exactly": (
        {"filter": [{"k": "total_tasks", "v": 5.5, "o": "gte"}]},
        lambda jobs: [j for j in jobs if j["total_tasks"] >= 5.5],
    ),
    "text_operators_search_text": (
        {"filter": [{"k": "job_id", "v": 4, "o": "contain"}]},
        lambda jobs: [j for j in jobs if "4" in j["job_id"]],
    ),
    "empty_lists": ({"filter": [{"k": "job_id", "v": [], "o": "not_contain_in"}]}, lambda jobs: jobs),
    "null_and_unreadable_values": (
        {"filter": [{"k": "finished_at", "v": None, "o": "gte"}]},
        "ERROR_OPERATOR_VALUE_TYPE",
    ),
    "time_expression_bar": (
        {"filter": [{"k": "created_at", "v": "now | 1d", "o": "timediff_gt"}]},
        "ERROR_DB_QUERY",
    ),
    "objects_are_not_values": (
        {"filter": [{"k": "job_id", "v": {"$ne": None}, "o": "eq"}]},
        "ERROR_OPERATOR_VALUE_TYPE",
    ),
    "match_on_errors": (
        {"filter": [{"k": "errors", "v": {"error_code": "E_Z", "message": "failed"}, "o": "match"}]},
        lambda jobs: [j for j in jobs if any(e["error_code"] == "E_Z" for e in j["errors"])],
    ),
    "controller_sort": ({"sort": [{"key": "controller_info.name"}]}, "ERROR_DB_QUERY"),
    "api_names_only": ({"filter": [{"k": "mark_error", "v": 0, "o": "eq"}]}, "ERROR_DB_QUERY"),
    "operator_spelling": (
        {"filter": [{"k": "status", "v": "ERROR", "o": "EQ"}]},
        lambda jobs: [j for j in jobs if j["status"] == "ERROR"],
    ),
    "free_paths_are_paths": (
        {"filter": [{"k": "filter.region", "v": "a", "o": "eq"}]},
        lambda jobs: [j for j in jobs if j["filters"].get("region") == "a"],
    ),
}


@pytest.mark.parametrize("name", sorted(KEPT))
async def test_each_kept_deviation_answers_as_documented(
    http: httpx.AsyncClient, data: dict[str, Any], name: str
) -> None:
    query, expected = KEPT[name]
    body = await search(http, query)
    if isinstance(expected, str):
        assert body["error"]["code"] == expected
    else:
        wanted = expected(newest_first(data["jobs"]))
        assert result_ids(body) == ids(wanted) and wanted, name


async def stat_rows(http: httpx.AsyncClient, query: dict[str, Any]) -> Any:
    body: dict[str, Any] = (await http.post(STAT, json={"query": query, "domain_id": DOMAIN})).json()
    return body.get("results", body)


def _count_by(name: str, key: str) -> dict[str, Any]:
    group = {"keys": [{"key": key, "name": name}], "fields": [{"operator": "count", "name": "n"}]}
    return {"aggregate": [{"group": group}]}


async def test_kept_statistics_deviations_answer_as_documented(
    http: httpx.AsyncClient, data: dict[str, Any]
) -> None:
    jobs = data["jobs"]
    # stat_api_names: `filter.<path>` reads the stored `filters.<path>`; stored names and internal
    # fields are refused
    regions = Counter(job["filters"]["region"] for job in jobs)
    rows = await stat_rows(http, _count_by("r", "filter.region"))
    assert sorted((row["r"], row["n"]) for row in rows) == sorted(regions.items())
    for stored in ("filters.region", "controller", "mark_error"):
        assert (await stat_rows(http, _count_by("r", stored)))["error"]["code"] == "ERROR_DB_QUERY", stored
    # array_paths_in_stages: `distinct` through the errors array reads every element
    codes = sorted({e["error_code"] for job in jobs for e in job["errors"]})
    assert await stat_rows(http, {"distinct": "errors.error_code"}) == codes
    # stat_condition_not: `not` in conditions is "not equal"
    query = {
        "aggregate": [
            {
                "group": {
                    "keys": [],
                    "fields": [
                        {
                            "operator": "count",
                            "name": "n",
                            "conditions": [{"k": "status", "v": "ERROR", "o": "not"}],
                        }
                    ],
                }
            }
        ]
    }
    assert await stat_rows(http, query) == [{"n": sum(job["status"] != "ERROR" for job in jobs)}]
    # stat_no_stored_ids: a `project` after no `group` gives only the projected names
    query = {
        "aggregate": [{"sort": [{"key": "job_id"}]}, {"project": {"fields": [{"key": "job_id", "name": "id"}]}}]
    }
    assert await stat_rows(http, query) == [{"id": job_id} for job_id in sorted(job["job_id"] for job in jobs)]
    # stat_error_codes: a refused stage keeps its own code
    assert (await stat_rows(http, {"aggregate": [{"group": {}}]}))["error"][
        "code"
    ] == "ERROR_REQUIRED_PARAMETER"


def test_every_deviation_of_the_oracle_is_documented() -> None:
    docs = Path(__file__).parents[2] / "docs"
    text = (docs / "query-semantics.md").read_text() + (docs / "statistics.md").read_text()
    named = set(re.findall(r"^- `([a-z_]+)`:", text, flags=re.MULTILINE))
    assert named == set(DEVIATIONS)
    for deviation in DEVIATIONS.values():
        page, _, anchor = deviation.doc.partition("#")
        assert f"## {anchor.replace('-', ' ')}".lower() in (Path(docs.parent / page).read_text().lower())
