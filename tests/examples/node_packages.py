"""The JavaScript examples' npm packages (examples/javascript/package.json), installed with
``npm ci`` when missing; tests that need Node.js are skipped only when it is not installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_EXAMPLES = Path(__file__).parents[2] / "examples" / "javascript"
PACKAGES = (
    "graphql-request",
    "@apollo/client",
    "@urql/core",
    "@urql/exchange-graphcache",
    "relay-compiler",
    "graphql-ws",
    "graphql-sse",
    "ws",
)


def run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def ensure_node_packages() -> Path:
    """The examples folder with its packages installed (skips when Node.js is absent)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(
            "Node.js (node and npm) is not installed: the JavaScript examples run where it is (.ci/run has it)"
        )
    if not all((JS_EXAMPLES / "node_modules" / name).is_dir() for name in PACKAGES):
        installed = run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_EXAMPLES)
        assert installed.returncode == 0, installed.stderr
    return JS_EXAMPLES
