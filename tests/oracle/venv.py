"""python-core (``spaceone-core``) in a venv of its own, created once under the user's cache dir:
its pinned dependencies (mongoengine, pymongo, …) never meet the gateway's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

SPACEONE_CORE = "2.0.144"
DRIVER = Path(__file__).with_name("driver.py")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jobs-gateway" / f"oracle-venv-spaceone-core-{SPACEONE_CORE}"


def _index_reachable(python: Path) -> bool:
    """Whether pip can reach any package index at all (asked about pip itself)."""
    probe = subprocess.run(
        [str(python), "-m", "pip", "index", "versions", "pip", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return probe.returncode == 0


def oracle_python() -> Path:
    """The venv's interpreter, installing ``spaceone-core==SPACEONE_CORE`` the first time.

    Fails loudly when the install fails; skips (saying why) only when no package index answers."""
    target = cache_dir()
    python = target / "bin" / "python"
    if (target / ".installed").exists():
        return python
    building = target.with_name(target.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(building)
    builder = building / "bin" / "python"
    install = subprocess.run(
        [
            str(builder),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"spaceone-core=={SPACEONE_CORE}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode != 0:
        reachable = _index_reachable(builder)
        shutil.rmtree(building, ignore_errors=True)
        if not reachable:
            pytest.skip(f"no package index is reachable: cannot install spaceone-core=={SPACEONE_CORE}")
        pytest.fail(f"pip install spaceone-core=={SPACEONE_CORE} failed:\n{install.stderr[-3000:]}")
    (building / ".installed").touch()
    shutil.rmtree(target, ignore_errors=True)
    # A renamed venv still works through `python -m`: the interpreter finds its site-packages
    # from pyvenv.cfg beside it (only console scripts record the old path, and none is used).
    building.rename(target)
    return python


def run_driver(python: Path, request: dict[str, Any]) -> list[dict[str, Any]]:
    """All the cases of ``request`` through python-core, in one process."""
    done = subprocess.run(
        [str(python), str(DRIVER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"the python-core driver failed:\n{done.stderr[-3000:]}")
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    return answers
