"""``python -m bench``: the gateway against the plain baseline; prints tables, writes JSON.

python -m bench                       # everything (in process, then end to end)
python -m bench --quick               # fewer rounds and shorter load loops
python -m bench --only inprocess      # or: endtoend, commands, memory
python -m bench --scenario "jobs 100" # scenarios whose name contains the text
python -m bench --json bench/results/run.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.data import dataset
from bench.scenarios import Scenario, scenarios

PARTS = ("inprocess", "endtoend", "commands", "memory")
DEFAULT_JSON = Path(__file__).parent / "results" / "latest.json"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=9, help="in-process rounds (default 9)")
    parser.add_argument(
        "--batch-seconds", type=float, default=0.15, help="in-process time per batch and side (default 0.15)"
    )
    parser.add_argument(
        "--duration", type=float, default=4.0, help="end-to-end seconds per load loop (default 4)"
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds, short batches and loops")
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        help="only scenarios whose name contains this text (repeatable)",
    )
    parser.add_argument(
        "--only", action="append", choices=PARTS, default=[], help="only these parts (repeatable; default all)"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"default {DEFAULT_JSON}")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.batch_seconds, args.duration = 3, 0.05, 1.5
    return args


def _available(wanted: list[Scenario], filters: list[str]) -> list[Scenario]:
    """The scenarios whose name contains one of ``filters`` (all of them without filters)."""
    return [s for s in wanted if not filters or any(text in s.name for text in filters)]


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    try:
        import uvloop  # noqa: PLC0415
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    parts = args.only or list(PARTS)
    data = dataset()
    chosen = _available(scenarios(data), args.scenario)
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "command": "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    if "inprocess" in parts:
        from bench.inprocess import run_inprocess  # noqa: PLC0415

        report["inprocess"] = _run(run_inprocess(data, chosen, args.rounds, args.batch_seconds))
    if "endtoend" in parts or "commands" in parts or "memory" in parts:
        from bench.endtoend import run_endtoend  # noqa: PLC0415

        report.update(run_endtoend(data, chosen, parts, args.duration))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
