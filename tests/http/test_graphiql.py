"""The GraphiQL page: its packaged assets (a missing one is 404 and named), its default tab, the off switch."""

from __future__ import annotations

import io
import json
import logging
import re
import tarfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse
from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.app import create_app
from gateway.demo import DEMO_DOMAINS
from gateway.http.assets import AssetFetchError, _extract, integrity_of
from gateway.http.graphiql import (
    ASSETS,
    EXAMPLE_QUERIES,
    GRAPHIQL_JS,
    VENDOR_ROUTE,
    Asset,
    GraphiQLPage,
    VendorFiles,
    page_config,
)
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings

BROWSER = {"accept": "text/html"}


def _vendor_dir(tmp_path: Path) -> Path:
    for asset in ASSETS:
        (tmp_path / asset.filename).write_text("/* pinned asset */")
    return tmp_path


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)


def test_the_page_loads_every_asset_from_the_gateway_with_its_pinned_hash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page = GraphiQLPage(Settings(), vendor_dir=_vendor_dir(tmp_path))
    assert _asset_urls(page.html) == [
        f"static/vendor/{name}"
        for name in (
            "graphiql.min.css",
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
        )
    ]
    assert "https://" not in page.html and "http://" not in page.html
    assert all(f'integrity="{asset.integrity}"' in page.html for asset in ASSETS)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_missing_assets_are_named_in_the_log_at_start_and_still_requested_from_the_gateway(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / GRAPHIQL_JS.filename).write_text("/* pinned asset */")
    with caplog.at_level(logging.INFO, logger="gateway"):
        page = GraphiQLPage(Settings(), vendor_dir=tmp_path)
    assert all(url.startswith("static/vendor/") for url in _asset_urls(page.html))
    [warning] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    missing = [a.filename for a in ASSETS if a is not GRAPHIQL_JS]
    assert all(name in warning for name in missing) and GRAPHIQL_JS.filename not in warning
    assert "fetch-graphiql" in warning and str(tmp_path) in warning


def test_the_default_tab_reads_a_demo_domain_and_offers_the_headers_editor() -> None:
    config = page_config(Settings())
    assert config["isHeadersEditorEnabled"] is True and config["shouldPersistHeaders"] is True
    [tab] = config["defaultTabs"]
    assert tab["query"] == EXAMPLE_QUERIES
    assert json.loads(tab["variables"]) == {"domainId": DEMO_DOMAINS[0]}


def test_with_tokens_the_default_tab_leaves_the_domain_to_the_token_and_opens_headers() -> None:
    config = page_config(Settings(auth="jwt", jwt_keys="hs256:" + "s" * 32, jwt_allow_hs256=True))
    [tab] = config["defaultTabs"]
    assert json.loads(tab["variables"]) == {"domainId": None}
    assert "Authorization" in json.loads(tab["headers"])
    assert config["defaultEditorToolsVisibility"] == "headers"


@pytest.fixture
async def demo_http() -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = create_app(Settings(demo_jobs=1500))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http, app.state.mongo.database


async def test_the_page_is_served_at_graphql_to_a_browser(
    demo_http: tuple[httpx.AsyncClient, Any],
) -> None:
    http, _ = demo_http
    response = await http.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert 'id="graphiql-config"' in response.text
    assert "query FailedJobs(" in response.text


async def test_graphiql_false_turns_the_page_and_its_assets_off(mock_db: Any) -> None:
    settings = Settings(mongodb_uri="mongodb://unused.invalid", graphiql=False)
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        assert (await http.get("/graphql", headers=BROWSER)).status_code == 404
        assert (await http.get(f"/static/vendor/{GRAPHIQL_JS.filename}")).status_code == 404


async def test_the_packaged_assets_are_served_and_a_missing_file_is_404(
    demo_http: tuple[httpx.AsyncClient, Any],
) -> None:
    http, _ = demo_http
    for asset in ASSETS:
        response = await http.get(f"/{asset.url}")
        assert response.status_code == 200 and integrity_of(response.content) == asset.integrity
    assert (await http.get("/static/vendor/nope.js")).status_code == 404


async def test_without_the_vendor_folder_every_asset_is_404_not_500(tmp_path: Path) -> None:
    app = Starlette(routes=[Mount(VENDOR_ROUTE, VendorFiles(tmp_path / "absent"))])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        for path in [asset.url for asset in ASSETS] + ["static/vendor/nope.js"]:
            assert (await http.get(f"/{path}")).status_code == 404, path


def _operation_names() -> list[str]:
    return [
        node.name.value
        for node in parse(EXAMPLE_QUERIES).definitions
        if isinstance(node, OperationDefinitionNode) and node.name
    ]


async def test_every_example_of_the_default_tab_answers_from_the_demo_data(
    demo_http: tuple[httpx.AsyncClient, Any],
) -> None:
    http, database = demo_http
    stored = [doc async for doc in database["job"].find({"domain_id": DEMO_DOMAINS[0]})]
    variables = json.loads(page_config(Settings())["defaultTabs"][0]["variables"])
    answers = {}
    for name in _operation_names():
        response = await http.post(
            "/graphql",
            json={"query": EXAMPLE_QUERIES, "operationName": name, "variables": variables},
        )
        body = response.json()
        assert "errors" not in body, (name, body)
        answers[name] = body["data"]["jobs"]
    assert set(answers) == {"FailedJobs", "BiggestJobsThisWeek", "UnfinishedJobCount"}

    failed = sorted((j for j in stored if j["status"] == "ERROR"), key=lambda j: j["_id"])
    failed.sort(key=lambda j: j["created_at"], reverse=True)
    assert answers["FailedJobs"]["totalCount"] == len(failed)
    assert [j["jobId"] for j in answers["FailedJobs"]["results"]] == [j["job_id"] for j in failed[:5]]

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    week = sorted((j for j in stored if j["created_at"] >= today - timedelta(days=7)), key=lambda j: j["_id"])
    week.sort(key=lambda j: j["total_tasks"], reverse=True)
    assert answers["BiggestJobsThisWeek"]["totalCount"] == len(week) > 0
    assert [j["jobId"] for j in answers["BiggestJobsThisWeek"]["results"]] == [j["job_id"] for j in week[:10]]

    unfinished = [j for j in stored if j["status"] in ("CREATED", "IN_PROGRESS")]
    assert answers["UnfinishedJobCount"] == {"totalCount": len(unfinished)}


def _tarball(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "package.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_fetched_files_are_written_only_when_they_match_their_pinned_hash(tmp_path: Path) -> None:
    content = b"window.GraphiQL = function () {};"
    asset = Asset("graphiql", "0.0.0", "graphiql.min.js", integrity_of(content))
    tarball = _tarball(tmp_path, {"graphiql.min.js": content, "LICENSE": b"MIT"})
    out = tmp_path / "vendor"
    out.mkdir()
    _extract(tarball, [asset], out, licence="graphiql.LICENSE")
    assert (out / "graphiql.min.js").read_bytes() == content
    assert (out / "graphiql.LICENSE").read_bytes() == b"MIT"


def test_a_file_that_does_not_match_its_pinned_hash_is_refused(tmp_path: Path) -> None:
    tarball = _tarball(tmp_path, {"graphiql.min.js": b"tampered", "LICENSE": b"MIT"})
    out = tmp_path / "vendor"
    out.mkdir()
    with pytest.raises(AssetFetchError, match="does not match its pinned hash"):
        _extract(tarball, [GRAPHIQL_JS], out, licence="graphiql.LICENSE")
    assert list(out.iterdir()) == []
