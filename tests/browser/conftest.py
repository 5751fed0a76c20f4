"""Headless Chromium (Debian's ``chromium`` package) driven by Playwright; nothing is downloaded."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from gateway.http.graphiql import vendor_files_present

# Without these, Chromium keeps calling home (updates, sync, QUIC probes) on a closed network.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("GATEWAY_TEST_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium on this machine: `apt-get install chromium` (as .ci/run does), "
                    "or point GATEWAY_TEST_CHROMIUM at a Chromium binary")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session", autouse=True)
def graphiql_assets() -> None:
    """The pinned GraphiQL files, fetched once (as `.ci/run` and the Docker build do) when a
    plain `pytest` runs on a fresh clone; the page under test must load nothing from elsewhere."""
    if vendor_files_present():
        return
    if chromium_path() is None:
        return  # the browser fixture skips, and says why
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "fetch-graphiql"], capture_output=True, text=True,
        timeout=300, check=False,
    )
    if result.returncode != 0 or not vendor_files_present():
        pytest.skip(
            "the GraphiQL assets are missing and `python -m gateway fetch-graphiql` failed "
            f"(npm and its registry are needed): {result.stderr.strip()[-300:]}"
        )
