"""A command listener that checks every read command the driver sends carries the tenant scope.

Installed on the session's wire-server client (tests/conftest.py), so every query of every test
that runs against the wire server is checked; an autouse fixture fails the test that caused a
violation. A read is scoped when its filter (find, count, distinct) or the ``$match`` that opens
its pipeline (aggregate) requires ``domain_id`` to equal a string at the top level or inside a
top-level ``$and``; stages that read other documents (``$lookup``, ``$unionWith``,
``$graphLookup``) must be scoped the same way, and nothing may write (``$out``, ``$merge``).
Reads without ``maxTimeMS`` are listed apart (``untimed``): tests may read expectations
directly, so only the tests that send nothing but the gateway's commands assert on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymongo import monitoring

FILTER_OF = {"find": "filter", "count": "query", "distinct": "query"}


def scoped_domain(mongo_filter: Any) -> str | None:
    """The domain a filter is restricted to, or None when it is not restricted to one."""
    if not isinstance(mongo_filter, dict):
        return None
    value = mongo_filter.get("domain_id")
    if isinstance(value, str):
        return value
    for part in mongo_filter.get("$and", ()) if isinstance(mongo_filter.get("$and"), list) else ():
        if (domain := scoped_domain(part)) is not None:
            return domain
    return None


def pipeline_problems(pipeline: Any, where: str) -> list[str]:
    if not isinstance(pipeline, list) or not pipeline:
        return [f"{where}: empty pipeline"]
    first = pipeline[0]
    if isinstance(first, dict) and "$changeStream" in first:
        return []  # the process's one change stream: gateway.live scopes each event before fan-out
    if isinstance(first, dict) and "$documents" in first and len(pipeline) > 1:
        first = pipeline[1]  # documents given in the command (live matching), then the scoped $match
    problems = []
    if not (isinstance(first, dict) and scoped_domain(first.get("$match")) is not None):
        problems.append(f"{where}: the pipeline does not open with a $match on domain_id")
    for stage in pipeline:
        name = next(iter(stage), "") if isinstance(stage, dict) else ""
        if name in ("$out", "$merge"):
            problems.append(f"{where}: writing stage {name}")
        elif name == "$lookup" or name == "$unionWith":
            spec = stage[name]
            sub = spec.get("pipeline") if isinstance(spec, dict) else None
            problems += pipeline_problems(sub, f"{where} {name}")
        elif name == "$graphLookup":
            restrict = stage[name].get("restrictSearchWithMatch")
            if scoped_domain(restrict) is None:
                problems.append(f"{where}: $graphLookup without a domain restriction")
        elif name == "$facet":
            pass  # facets work on the documents the opening $match let through
    return problems


def command_problems(name: str, command: dict[str, Any]) -> list[str]:
    """Why a command breaks the scoping rule ([] when it does not, or is not a read)."""
    if name in FILTER_OF:
        if scoped_domain(command.get(FILTER_OF[name])) is None:
            return [f"{name} on {command.get(name)!r}: filter lacks the domain condition"]
        return []
    if name == "aggregate":
        return pipeline_problems(command.get("pipeline"), f"aggregate on {command.get(name)!r}")
    return []


@dataclass
class TenantGuard(monitoring.CommandListener):
    """Checks every command; ``violations`` lists the offending ones, ``domains`` the scopes seen."""

    checked: int = 0
    violations: list[str] = field(default_factory=list)
    untimed: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = dict(event.command)
        if event.command_name not in FILTER_OF and event.command_name != "aggregate":
            return
        self.checked += 1
        problems = command_problems(event.command_name, command)
        self.violations.extend(f"{p}: {command!r}" for p in problems)
        if "maxTimeMS" not in command:
            self.untimed.append(f"{event.command_name} without maxTimeMS: {command!r}")
        if event.command_name == "aggregate":
            pipeline = command.get("pipeline") or [{}]
            domain = scoped_domain(pipeline[0].get("$match") if isinstance(pipeline[0], dict) else None)
        else:
            domain = scoped_domain(command.get(FILTER_OF[event.command_name]))
        if domain is not None:
            self.domains.append(domain)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def reset(self) -> None:
        self.checked = 0
        self.violations.clear()
        self.untimed.clear()
        self.domains.clear()


GUARD = TenantGuard()
"""The one guard of the test session (on the wire-server client)."""
