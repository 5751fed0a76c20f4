"""The import direction of the design is held by the import-linter contracts in pyproject.toml: a
``layers`` contract over the whole tree (settings, errors, leaf helpers ← gateway.mongo ← auth,
dataloaders, demo, observability ← context ← schema ← http | spaceone ← app ← __main__; see
docs/architecture.md), the Mongo layer free of GraphQL, the driver in gateway.mongo.client only, and
bench/ free of tests/."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_import_contracts_hold() -> None:
    command = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([command], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
