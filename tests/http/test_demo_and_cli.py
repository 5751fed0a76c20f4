"""The embedded demo database, the routes around GraphQL, and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from gateway.app import EXAMPLE_QUERY, create_app
from gateway.demo import DEMO_DOMAINS, generate_demo_data
from gateway.settings import Settings
from schema import schema
from tests.factories import STATUSES
from tests.live import LiveGateway
from tests.wire import free_port


def test_demo_data_is_realistic_and_reproducible() -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    jobs, controllers = generate_demo_data(2020, 3000, now)
    again, _ = generate_demo_data(2020, 3000, now)
    assert jobs == again
    assert {j["domain_id"] for j in jobs} == set(DEMO_DOMAINS)
    assert set(Counter(j["status"] for j in jobs)) == set(STATUSES)
    assert all(j["errors"] for j in jobs if j["status"] == "ERROR")
    assert all(j["finished_at"] is None for j in jobs if j["status"] in ("CREATED", "IN_PROGRESS"))
    span = max(j["created_at"] for j in jobs) - min(j["created_at"] for j in jobs)
    assert span.days >= 14
    assert len({c["domain_id"] for c in controllers}) == len(DEMO_DOMAINS)
    owned = {c["_id"] for c in controllers}
    assert any(j["controller"] is not None and j["controller"] not in owned for j in jobs)


async def test_the_logged_example_query_works_on_the_demo_database() -> None:
    settings = Settings(demo_jobs=600)
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as http:
        response = await http.post("/graphql", json={"query": EXAMPLE_QUERY % DEMO_DOMAINS[0]})
        assert (await http.get("/readyz")).status_code == 200
        graphiql = await http.get("/graphql", headers={"accept": "text/html"})
    body = response.json()
    assert "errors" not in body
    jobs = body["data"]["jobs"]
    assert jobs["totalCount"] > 0 and len(jobs["results"]) == min(5, jobs["totalCount"])
    assert all(r["status"] == "ERROR" and r["errors"] for r in jobs["results"])
    assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()


def test_export_schema_prints_the_sdl() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "export-schema"], capture_output=True, text=True, check=True
    )
    assert result.stdout == schema.as_str() + "\n"


def test_help_lists_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--host", "--port", "--workers", "export-schema"):
        assert option in result.stdout


# The demo database serves only when asked for -------------------------------------------------

REFUSED_ON_ALL_ADDRESSES = (
    "jobs-gateway: GATEWAY_MONGODB_URI is not set; set it to the power-scheduler MongoDB "
    "(or GATEWAY_DEMO=true to serve the embedded demo database on 0.0.0.0)"
)


def _start_refused(args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env |= {"GATEWAY_PORT": str(free_port()), **environment}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "environment", "line"),
    [
        ([], {"GATEWAY_HOST": "0.0.0.0"}, REFUSED_ON_ALL_ADDRESSES),
        (["--host", "0.0.0.0"], {}, REFUSED_ON_ALL_ADDRESSES),
        (["--host", "0.0.0.0", "--workers", "2"], {}, REFUSED_ON_ALL_ADDRESSES),
        (["serve", "--host", "10.1.2.3"], {}, REFUSED_ON_ALL_ADDRESSES.replace("0.0.0.0", "10.1.2.3")),
        (
            [],
            {"GATEWAY_DEMO": "false"},
            "jobs-gateway: GATEWAY_MONGODB_URI is not set and GATEWAY_DEMO=false; "
            "set GATEWAY_MONGODB_URI to the power-scheduler MongoDB",
        ),
        (
            [],
            {"GATEWAY_DEMO": "true", "GATEWAY_MONGODB_URI": "mongodb://127.0.0.1:1"},
            "jobs-gateway: GATEWAY_DEMO=true contradicts GATEWAY_MONGODB_URI; unset one of them "
            "(the demo database, or the MongoDB the URI names)",
        ),
    ],
)
def test_without_a_database_asked_for_the_gateway_refuses_to_start_in_one_line(
    args: list[str], environment: dict[str, str], line: str
) -> None:
    result = _start_refused(args, environment)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


def test_each_refused_setting_is_one_line_named_as_it_is_set() -> None:
    result = _start_refused([], {"GATEWAY_PORT": "99999", "GATEWAY_MAX_PAGE_SIZE": "0"})
    assert result.returncode != 0
    assert sorted(result.stderr.splitlines()) == [
        "jobs-gateway: GATEWAY_MAX_PAGE_SIZE: Input should be greater than or equal to 1",
        "jobs-gateway: GATEWAY_PORT: Input should be less than or equal to 65535",
    ]


def _demo_total(gateway: LiveGateway) -> tuple[int, int]:
    """(served, expected) number of jobs of the first demo domain."""
    response = httpx.post(
        f"{gateway.url}/graphql",
        timeout=30,
        json={"query": '{ jobs(domainId: "%s") { totalCount } }' % DEMO_DOMAINS[0]},
    )
    served = response.json()["data"]["jobs"]["totalCount"]
    return served, sum(job["domain_id"] == DEMO_DOMAINS[0] for job in gateway.demo_jobs())


@pytest.mark.parametrize(
    "environment",
    [
        {},  # the README's `jobs-gateway`: the default loopback host
        {"GATEWAY_HOST": "0.0.0.0", "GATEWAY_DEMO": "true"},
    ],
    ids=["loopback", "all-addresses-when-asked"],
)
def test_the_demo_database_serves_on_loopback_and_wherever_it_is_asked_for(
    environment: dict[str, str],
) -> None:
    gateway = LiveGateway.start(GATEWAY_DEMO_JOBS="300", **environment)
    try:
        assert gateway.settings.host == environment.get("GATEWAY_HOST", Settings().host)
        served, expected = _demo_total(gateway)
        assert served == expected > 0
        assert "serving the embedded demo database (300 jobs)" in gateway.log()
        assert f"running on http://{gateway.settings.host}:" in gateway.log()  # uvicorn's bind
    finally:
        gateway.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_settings_serve_the_demo_on_every_loopback_host(host: str) -> None:
    assert Settings(host=host).uses_demo_database


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "gateway.example"])
def test_settings_refuse_the_unasked_for_demo_beyond_loopback(host: str) -> None:
    with pytest.raises(ValidationError, match="GATEWAY_MONGODB_URI is not set"):
        Settings(host=host)
    assert Settings(host=host, demo=True).uses_demo_database
    assert not Settings(host=host, mongodb_uri="mongodb://db.example").uses_demo_database
