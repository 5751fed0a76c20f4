"""The wheel `pip install .` builds: it holds GraphiQL's pinned assets (matching their pinned
hashes), their licences and the page template, and once installed it serves them itself."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.http.graphiql import ASSETS
from tests.wire import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
VENDOR = "gateway/http/static/vendor"
LICENCES = sorted({f"{asset.package}.LICENSE" for asset in ASSETS})


def sha384(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel .`` of a copy of the project (the checkout stays free of build output)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("gateway", "schema"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--wheel-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [built] = out.glob("jobs_gateway-*.whl")
    return built


def test_the_wheel_holds_the_pinned_assets_their_licences_and_the_page(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "gateway/http/templates/graphiql.html" in names
        for asset in ASSETS:
            data = archive.read(f"{VENDOR}/{asset.filename}")
            assert sha384(data) == asset.integrity, f"{asset.filename} is not the pinned file"
        for licence in LICENCES:
            text = archive.read(f"{VENDOR}/{licence}").decode()
            assert text.startswith("MIT License") and "Permission is hereby granted" in text
    assert {name for name in names if name.startswith(f"{VENDOR}/")} == {
        f"{VENDOR}/{name}" for name in [*(a.filename for a in ASSETS), *LICENCES]
    }


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The wheel installed, without the network, into a folder of its own; the environment and a
    working directory away from the checkout make ``python -m gateway`` run the installed copy."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env |= {"PYTHONPATH": str(target), "COLUMNS": "400"}  # COLUMNS: help text keeps paths whole
    return target, env


def _run(installed: tuple[Path, dict[str, str]], *args: str) -> str:
    target, env = installed
    result = subprocess.run(
        [sys.executable, *args],
        cwd=target.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="module")
def installed_gateway(installed: tuple[Path, dict[str, str]]) -> Iterator[str]:
    target, env = installed
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "--port", str(port)],
        cwd=target.parent,
        env=env | {"GATEWAY_DEMO_JOBS": "50"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert process.poll() is None, "the installed gateway exited during start"
        yield url
    finally:
        stop_process(process)


def test_the_installed_gateway_runs_from_its_own_folder(installed: tuple[Path, dict[str, str]]) -> None:
    target, _ = installed
    imported = _run(installed, "-c", "import gateway.http.graphiql as g; print(g.VENDOR_DIR)")
    assert Path(imported.strip()) == target / VENDOR
    # fetch-graphiql, by default, writes where this installed copy serves from, and says so
    assert f"(default: {target / VENDOR})" in _run(installed, "-m", "gateway", "fetch-graphiql", "--help")


def test_the_installed_gateway_serves_graphiql_and_its_pinned_assets(installed_gateway: str) -> None:
    page = httpx.get(f"{installed_gateway}/graphql", headers={"accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    for asset in ASSETS:
        assert f'"{asset.url}" integrity="{asset.integrity}"' in page.text
        served = httpx.get(f"{installed_gateway}/{asset.url}", timeout=10)
        assert served.status_code == 200 and sha384(served.content) == asset.integrity
    assert httpx.get(f"{installed_gateway}/static/vendor/nope.js", timeout=10).status_code == 404
