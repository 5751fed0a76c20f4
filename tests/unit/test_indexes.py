"""Index advice: every connection order has an index, and ``python -m gateway indexes`` prints
commands a MongoDB shell accepts."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from typing import Any

from gateway.mongo.indexes import ADVICE
from schema.types.enums import JobOrderField

COMMAND = re.compile(r"^db\.(\w+)\.createIndex\((\{.*?\}), (\{.*\})\)$")


@functools.cache
def _printed() -> list[tuple[str, dict[str, int], dict[str, Any]]]:
    output = subprocess.run(
        [sys.executable, "-m", "gateway", "indexes"], capture_output=True, text=True, check=True
    ).stdout
    commands = []
    for line in output.splitlines():
        if line.startswith("//"):
            continue
        match = COMMAND.match(line)
        assert match, line
        commands.append((match[1], json.loads(match[2]), json.loads(match[3])))
    return commands


def test_the_command_prints_one_create_index_per_advised_index() -> None:
    printed = _printed()
    assert len(printed) == len(ADVICE)
    assert all(keys and next(iter(keys)) == "domain_id" for _, keys, _ in printed)
    names = [options["name"] for _, _, options in printed]
    assert len(names) == len(set(names))


def test_every_connection_order_has_an_index_ending_with_the_tie_breaker() -> None:
    job_indexes = [list(keys.items()) for collection, keys, _ in _printed() if collection == "job"]
    for field in JobOrderField:
        assert [("domain_id", 1), (field.value, 1), ("_id", 1)] in job_indexes, field


def test_the_unique_job_id_index_is_advised() -> None:
    assert ("job", {"domain_id": 1, "job_id": 1}) in [
        (collection, keys) for collection, keys, options in _printed() if options.get("unique")
    ]
