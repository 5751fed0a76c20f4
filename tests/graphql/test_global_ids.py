"""Global object identification: ``id`` on Job and ControllerInfo, ``node`` and ``nodes``,
scoped to the caller's domain, with malformed ids refused. Expected ids are encoded here from
the stored documents, independently of the gateway's codec."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, Backend, client_for, seed
from tests.tokens import KeyPair, bearer, claims, write_jwks

JOBS, CONTROLLERS = factories.dataset(14, (DOMAIN, OTHER_DOMAIN), 12)
OWN = [job for job in JOBS if job["domain_id"] == DOMAIN]
CONTROLLER_BY_OID = {c["_id"]: c for c in CONTROLLERS}
PAIR = KeyPair.rsa("k1")

LIST = """
query($domain: String) {
  jobs(domainId: $domain, query: {page: {limit: 100}}) {
    results { id jobId controllerInfo { id controllerId } }
  }
}
"""
NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Job { jobId status domainId errors { errorCode } controllerInfo { id controllerId } }
    ... on ControllerInfo { controllerId name controllerDomain: domainId }
  }
}
"""
NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) { __typename id ... on Job { jobId } ... on ControllerInfo { controllerId } }
}
"""


def global_id(type_name: str, domain: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{domain}:{key}".encode()).decode().rstrip("=")


def job_gid(job: dict[str, Any]) -> str:
    return global_id("Job", job["domain_id"], job["job_id"])


def controller_gid(controller: dict[str, Any]) -> str:
    return global_id("ControllerInfo", controller["domain_id"], controller["controller_id"])


def live_controller(job: dict[str, Any]) -> dict[str, Any] | None:
    """The job's controller when it still exists (the dataset deletes some)."""
    return CONTROLLER_BY_OID.get(job["controller"])


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@pytest.fixture
async def seeded(backend: Backend) -> Backend:
    await seed(backend.db, JOBS, CONTROLLERS)
    return backend


async def test_jobs_and_controllers_carry_their_global_id(seeded: Backend) -> None:
    body = await seeded.client(LIST, {"domain": DOMAIN})
    results = body["data"]["jobs"]["results"]
    by_job_id = {job["job_id"]: job for job in OWN}
    assert sorted(r["jobId"] for r in results) == sorted(by_job_id)
    for result in results:
        job = by_job_id[result["jobId"]]
        assert result["id"] == job_gid(job)
        controller = live_controller(job)
        expected = (
            None
            if controller is None
            else {"id": controller_gid(controller), "controllerId": controller["controller_id"]}
        )
        assert result["controllerInfo"] == expected


async def test_node_fetches_the_job_and_the_controller_an_id_names(seeded: Backend) -> None:
    job = next(j for j in OWN if live_controller(j) is not None and j["errors"])
    controller = live_controller(job)
    assert controller is not None
    body = await seeded.client(NODE, {"id": job_gid(job)})
    assert body == {
        "data": {
            "node": {
                "__typename": "Job",
                "id": job_gid(job),
                "jobId": job["job_id"],
                "status": job["status"],
                "domainId": DOMAIN,
                "errors": [{"errorCode": e["error_code"]} for e in job["errors"]],
                "controllerInfo": {
                    "id": controller_gid(controller),
                    "controllerId": controller["controller_id"],
                },
            }
        }
    }
    body = await seeded.client(NODE, {"id": controller_gid(controller)})
    assert body == {
        "data": {
            "node": {
                "__typename": "ControllerInfo",
                "id": controller_gid(controller),
                "controllerId": controller["controller_id"],
                "name": controller["name"],
                "controllerDomain": DOMAIN,
            }
        }
    }


async def test_nodes_answer_in_the_order_given_with_null_for_unknown_ids(seeded: Backend) -> None:
    jobs = OWN[:4]
    controller = next(c for c in CONTROLLERS if c["domain_id"] == DOMAIN)
    unknown = global_id("Job", DOMAIN, "job-ffffffffffff")
    ids = [
        job_gid(jobs[2]),
        unknown,
        controller_gid(controller),
        job_gid(jobs[0]),
        job_gid(jobs[2]),
        global_id("ControllerInfo", DOMAIN, "controller-none"),
    ]
    body = await seeded.client(NODES, {"ids": ids})
    assert body == {
        "data": {
            "nodes": [
                {"__typename": "Job", "id": ids[0], "jobId": jobs[2]["job_id"]},
                None,
                {"__typename": "ControllerInfo", "id": ids[2], "controllerId": controller["controller_id"]},
                {"__typename": "Job", "id": ids[3], "jobId": jobs[0]["job_id"]},
                {"__typename": "Job", "id": ids[4], "jobId": jobs[2]["job_id"]},
                None,
            ]
        }
    }


async def test_ids_are_the_same_across_requests_and_instances(seeded: Backend, settings: Settings) -> None:
    first = await seeded.client(LIST, {"domain": DOMAIN})
    again = await seeded.client(LIST, {"domain": DOMAIN})
    other_settings = settings.model_copy(update={"cursor_secret": "another-secret-entirely"})
    async with client_for(other_settings, seeded.db) as other_instance:
        elsewhere = await other_instance(LIST, {"domain": DOMAIN})
    assert first == again == elsewhere


MALFORMED = {
    "empty": "",
    "not base64": "Job:domain:job!",
    "unknown type": global_id("Schedule", DOMAIN, "schedule-1"),
    "no key": base64.urlsafe_b64encode(f"Job:{DOMAIN}".encode()).decode().rstrip("="),
    "empty key": global_id("Job", DOMAIN, ""),
    "padded": base64.urlsafe_b64encode(f"Job:{DOMAIN}:job-1".encode()).decode() + "==",
    "not utf-8": base64.urlsafe_b64encode(b"\xff\xfe:\xfa").decode().rstrip("="),
    "too long": global_id("Job", DOMAIN, "j" * 600),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_a_malformed_id_is_bad_user_input(seeded: Backend, case: str) -> None:
    bad = MALFORMED[case]
    body = await seeded.client(NODE, {"id": bad})
    assert codes(body) == ["BAD_USER_INPUT"] and body["data"] == {"node": None}
    body = await seeded.client(NODES, {"ids": [job_gid(OWN[0]), bad]})
    assert codes(body) == ["BAD_USER_INPUT"] and body["data"] is None


async def test_nodes_are_bounded_like_a_page(mock_db: Any) -> None:
    await seed(mock_db, JOBS, CONTROLLERS)
    settings = Settings(
        mongodb_uri="mongodb://unused.invalid", demo_jobs=0, max_page_size=3, default_page_size=3
    )
    async with client_for(settings, mock_db) as client:
        ids = [job_gid(job) for job in OWN[:3]]
        body = await client(NODES, {"ids": ids})
        assert [n["jobId"] for n in body["data"]["nodes"]] == [j["job_id"] for j in OWN[:3]]
        body = await client(NODES, {"ids": [*ids, job_gid(OWN[3])]})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "GATEWAY_MAX_PAGE_SIZE" in body["errors"][0]["message"]


# domains -----------------------------------------------------------------------------------

AppFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def jwt_client(mock_db: Any, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    await seed(mock_db, JOBS, CONTROLLERS)
    settings = Settings(
        mongodb_uri="mongodb://unused.invalid",
        demo_jobs=0,
        auth="jwt",
        jwt_keys=str(write_jwks(tmp_path / "jwks.json", PAIR)),
    )
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any], domain: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=bearer(PAIR.token(claims(domain)))
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_with_a_token_another_domains_id_is_null_like_an_unknown_one(
    jwt_client: httpx.AsyncClient,
) -> None:
    theirs = next(j for j in JOBS if j["domain_id"] == OTHER_DOMAIN)
    their_controller = next(c for c in CONTROLLERS if c["domain_id"] == OTHER_DOMAIN)
    unknown = global_id("Job", DOMAIN, "job-ffffffffffff")
    for other in (job_gid(theirs), controller_gid(their_controller)):
        assert await post(jwt_client, NODE, {"id": other}, DOMAIN) == {"data": {"node": None}}
    assert await post(jwt_client, NODE, {"id": unknown}, DOMAIN) == {"data": {"node": None}}
    body = await post(jwt_client, NODES, {"ids": [job_gid(theirs), job_gid(OWN[0])]}, DOMAIN)
    assert body == {
        "data": {"nodes": [None, {"__typename": "Job", "id": job_gid(OWN[0]), "jobId": OWN[0]["job_id"]}]}
    }
    # the owner of the other domain reads it
    body = await post(jwt_client, NODES, {"ids": [job_gid(theirs)]}, OTHER_DOMAIN)
    assert body["data"]["nodes"][0]["jobId"] == theirs["job_id"]


async def test_with_a_token_a_forged_id_cannot_reach_another_domains_job(
    jwt_client: httpx.AsyncClient,
) -> None:
    """An id naming the caller's domain and another domain's job id finds nothing."""
    theirs = next(j for j in JOBS if j["domain_id"] == OTHER_DOMAIN)
    forged = global_id("Job", DOMAIN, theirs["job_id"])
    assert await post(jwt_client, NODE, {"id": forged}, DOMAIN) == {"data": {"node": None}}


async def test_without_authentication_the_ids_own_domain_is_read(seeded: Backend) -> None:
    theirs = next(j for j in JOBS if j["domain_id"] == OTHER_DOMAIN)
    body = await seeded.client(NODES, {"ids": [job_gid(theirs), job_gid(OWN[0])]})
    assert [n["jobId"] for n in body["data"]["nodes"]] == [theirs["job_id"], OWN[0]["job_id"]]


async def test_the_ids_of_nodes_count_toward_the_cost_limit(mock_db: Any) -> None:
    # Each id may return one object (cost 1; the selected fields are scalars, cost 0).
    await seed(mock_db, JOBS, CONTROLLERS)
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0, max_cost=4)
    async with client_for(settings, mock_db) as client:
        fits = await client(NODES, {"ids": [job_gid(job) for job in OWN[:4]]})
        assert [node["jobId"] for node in fits["data"]["nodes"]] == [j["job_id"] for j in OWN[:4]]
        body = await client(NODES, {"ids": [job_gid(job) for job in OWN[:5]]})
    assert codes(body) == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    assert "GATEWAY_MAX_COST" in body["errors"][0]["message"]
