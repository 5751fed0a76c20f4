"""The tree is formatted by ``ruff format`` and passes ``ruff check`` (the rules in pyproject.toml,
including the bans on library internals outside the one module allowed them)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    command = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    return subprocess.run([command, *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_the_tree_is_formatted() -> None:
    result = _ruff("format", "--check", ".")
    assert result.returncode == 0, "run `ruff format .`:\n" + result.stdout + result.stderr


def test_the_lint_rules_hold() -> None:
    result = _ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
