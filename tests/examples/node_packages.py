"""The JavaScript examples' npm packages (examples/javascript/package.json), installed with
``npm ci`` when missing; tests that need Node.js are skipped only when it is not installed."""

from __future__ import annotations

import json
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


def compile_relay(examples: Path, workspace: Path, schema_text: str) -> tuple[int, str]:
    """relay-compiler on the Relay sources of examples/javascript/relay against a schema."""
    shutil.copytree(
        examples / "relay" / "src", workspace / "src", ignore=shutil.ignore_patterns("__generated__")
    )
    (workspace / "schema.graphql").write_text(schema_text)
    (workspace / "__generated__").mkdir()
    (workspace / "relay.config.json").write_text(
        json.dumps(
            {
                "src": "./src",
                "schema": "./schema.graphql",
                "language": "javascript",
                "artifactDirectory": "./__generated__",
            }
        )
    )
    result = run(["node", str(examples / "node_modules" / "relay-compiler" / "cli.js")], cwd=workspace)
    return result.returncode, result.stdout + result.stderr
