"""The seed's REST routes: SpaceONE JobsQuery JSON in, JobsInfo JSON out, SpaceONE errors."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, seed
from tests.factories import iso
from tests.search_checks import newest_first

SEARCH = "/power-scheduler/v1/jobs/search"
LIST = "/power-scheduler/v1/jobs"


@pytest.fixture
async def data(mock_db: Any) -> dict[str, Any]:
    controller = factories.controller(DOMAIN)
    jobs = [
        factories.job(
            DOMAIN,
            status="ERROR",
            controller=controller["_id"],
            errors=[factories.error("E_DENIED", "no access", resource="r-1")],
        ),
        factories.job(
            DOMAIN, status="SUCCESS", project_id="project-2", finished_at=datetime(2026, 9, 2, 8, 30)
        ),
        factories.job(DOMAIN, status="ERROR", project_id="project-2"),
        factories.job(OTHER_DOMAIN, status="ERROR"),
    ]
    await seed(mock_db, jobs, [controller])
    return {"jobs": jobs, "controller": controller}


async def test_search_answers_jobs_info_in_snake_case(http: httpx.AsyncClient, data: dict[str, Any]) -> None:
    body = {"query": {"filter": [{"k": "status", "v": "ERROR", "o": "eq"}]}, "domain_id": DOMAIN}
    response = await http.post(SEARCH, json=body)
    assert response.status_code == 200
    expected_jobs = newest_first(
        [j for j in data["jobs"] if j["domain_id"] == DOMAIN and j["status"] == "ERROR"]
    )
    controller = data["controller"]
    expected = []
    for job in expected_jobs:
        has_controller = job["controller"] == controller["_id"]
        expected.append(
            {
                "job_id": job["job_id"],
                "status": "ERROR",
                "filter": job["filters"],
                "total_tasks": job["total_tasks"],
                "remained_tasks": job["remained_tasks"],
                "errors": [
                    {"error_code": e["error_code"], "message": e["message"], "additional": e["additional"]}
                    for e in job["errors"]
                ],
                "controller_info": {
                    "controller_id": controller["controller_id"],
                    "name": controller["name"],
                    "provider": controller["provider"],
                    "capability": controller["capability"],
                    "plugin_info": controller["plugin_info"],
                    "tags": controller["tags"],
                    "created_at": iso(controller["created_at"]),
                    "domain_id": DOMAIN,
                }
                if has_controller
                else None,
                "project_id": job["project_id"],
                "domain_id": DOMAIN,
                "created_at": iso(job["created_at"]),
                "updated_at": iso(job["updated_at"]),
                "finished_at": iso(job["finished_at"]),
            }
        )
    assert response.json() == {"results": expected, "total_count": len(expected)}


@pytest.mark.parametrize(
    "body",
    [
        {"query": {"filter": [{"key": "project_id", "value": "project-2", "operator": "eq"}]}},
        {"query": {"filter": [{"k": "project_id", "v": ["project-2"], "o": "in"}]}},
        {"project_id": "project-2", "status": "JOB_STATE_NONE"},
        {"projectId": "project-2", "status": 0},
        {
            "query": {
                "filterOr": [
                    {"k": "project_id", "v": "project-2", "o": "eq"},
                    {"k": "job_id", "v": "nothing", "o": "eq"},
                ]
            }
        },
    ],
)
async def test_spaceone_spellings_select_the_same_jobs(
    http: httpx.AsyncClient, data: dict[str, Any], body: dict[str, Any]
) -> None:
    response = await http.post(SEARCH, json={**body, "domain_id": DOMAIN})
    expected = [
        j["job_id"]
        for j in newest_first(data["jobs"])
        if j["domain_id"] == DOMAIN and j["project_id"] == "project-2"
    ]
    assert [job["job_id"] for job in response.json()["results"]] == expected
    assert response.json()["total_count"] == len(expected)


async def test_status_names_and_numbers_filter(http: httpx.AsyncClient, data: dict[str, Any]) -> None:
    by_name = (await http.post(SEARCH, json={"status": "SUCCESS", "domain_id": DOMAIN})).json()
    by_number = (await http.post(SEARCH, json={"status": 4, "domain_id": DOMAIN})).json()
    expected = [j["job_id"] for j in data["jobs"] if j["domain_id"] == DOMAIN and j["status"] == "SUCCESS"]
    assert [r["job_id"] for r in by_name["results"]] == [r["job_id"] for r in by_number["results"]] == expected


async def test_minimal_only_page_and_count_only_shape_the_answer(
    http: httpx.AsyncClient, data: dict[str, Any]
) -> None:
    mine = newest_first([j for j in data["jobs"] if j["domain_id"] == DOMAIN])
    minimal = (
        await http.post(
            SEARCH, json={"query": {"minimal": True, "page": {"start": 2, "limit": 1}}, "domain_id": DOMAIN}
        )
    ).json()
    assert minimal == {
        "results": [
            {
                "job_id": mine[1]["job_id"],
                "status": mine[1]["status"],
                "created_at": iso(mine[1]["created_at"]),
                "finished_at": iso(mine[1]["finished_at"]),
            }
        ],
        "total_count": len(mine),
    }
    only = (
        await http.post(
            SEARCH, json={"query": {"only": ["job_id", "controllerInfo.name"]}, "domain_id": DOMAIN}
        )
    ).json()
    assert [set(r) for r in only["results"]] == [{"job_id", "controller_info"}] * len(mine)
    counted = (await http.post(SEARCH, json={"query": {"count_only": True}, "domain_id": DOMAIN})).json()
    assert counted == {"results": [], "total_count": len(mine)}


async def test_get_takes_query_parameters(http: httpx.AsyncClient, data: dict[str, Any]) -> None:
    mine = newest_first([j for j in data["jobs"] if j["domain_id"] == DOMAIN and j["status"] == "ERROR"])
    query = json.dumps({"filter": [{"k": "status", "v": "ERROR", "o": "eq"}]})
    response = await http.get(
        LIST, params={"domain_id": DOMAIN, "query": query, "query.page.limit": "1", "query.only": ["job_id"]}
    )
    assert response.json() == {"results": [{"job_id": mine[0]["job_id"]}], "total_count": len(mine)}
    sorted_asc = await http.get(
        LIST,
        params={
            "domain_id": DOMAIN,
            "query.sort.key": "created_at",
            "query.sort.desc": "false",
            "query.minimal": "true",
        },
    )
    ids = [r["job_id"] for r in sorted_asc.json()["results"]]
    assert ids == [
        j["job_id"] for j in reversed(newest_first([j for j in data["jobs"] if j["domain_id"] == DOMAIN]))
    ]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "ERROR_REQUIRED_PARAMETER"),
        (
            {"domain_id": DOMAIN, "query": {"filter": [{"k": "status", "v": "x", "o": "like"}]}},
            400,
            "ERROR_DB_QUERY",
        ),
        (
            {"domain_id": DOMAIN, "query": {"filter": [{"k": "status", "v": "x", "o": "in"}]}},
            400,
            "ERROR_OPERATOR_LIST_VALUE_TYPE",
        ),
        (
            {"domain_id": DOMAIN, "query": {"filter": [{"k": "$where", "v": "1", "o": "eq"}]}},
            400,
            "ERROR_DB_QUERY",
        ),
        (
            {"domain_id": DOMAIN, "query": {"filter": [{"k": "job_id", "v": "job", "o": "starts_with"}]}},
            400,
            "ERROR_DB_QUERY",
        ),
        (
            {"domain_id": DOMAIN, "query": {"filter_or": [{"k": "errors", "v": True, "o": "has_elements"}]}},
            400,
            "ERROR_DB_QUERY",
        ),
        ({"domain_id": DOMAIN, "query": {"page": {"limit": 100_000}}}, 400, "ERROR_INVALID_PARAMETER"),
        (
            {"domain_id": DOMAIN, "query": {"filter": [{"k": "job_id", "v": "x", "o": "eq"}] * 51}},
            400,
            "ERROR_INVALID_PARAMETER",
        ),
        ({"domain_id": DOMAIN, "surprise": 1}, 400, "ERROR_INVALID_PARAMETER"),
        ({"domain_id": DOMAIN, "status": "SLEEPING"}, 400, "ERROR_INVALID_PARAMETER"),
        ([1, 2], 400, "ERROR_INVALID_PARAMETER"),
    ],
)
async def test_errors_are_spaceone_errors(
    http: httpx.AsyncClient, data: dict[str, Any], body: Any, status: int, code: str
) -> None:
    response = await http.post(SEARCH, json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


async def test_a_body_that_is_not_json_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post(SEARCH, content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ERROR_INVALID_PARAMETER"


async def test_other_domains_stay_invisible(http: httpx.AsyncClient, data: dict[str, Any]) -> None:
    response = (await http.post(SEARCH, json={"domain_id": OTHER_DOMAIN})).json()
    assert [r["job_id"] for r in response["results"]] == [
        j["job_id"] for j in data["jobs"] if j["domain_id"] == OTHER_DOMAIN
    ]
