"""Search scenarios shared by the in-process and the wire-server tests.

Each scenario is a SpaceONE query and a plain-Python predicate written from the spec, so expected
answers never come from the code under test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Doc = dict[str, Any]


def stored_filter(doc: Doc) -> dict[str, Any]:
    value = doc["filters"] if "filters" in doc else doc.get("filter")
    return value or {}


def has_text(value: Any, text: str) -> bool:
    return isinstance(value, str) and text.lower() in value.lower()


def error_codes(doc: Doc) -> list[str]:
    return [e["error_code"] for e in doc.get("errors") or []]


@dataclass
class Scenario:
    name: str
    filter: list[dict[str, Any]] = field(default_factory=list)
    filter_or: list[dict[str, Any]] = field(default_factory=list)
    keyword: str | None = None
    predicate: Callable[[Doc, dict[Any, Doc]], bool] = lambda doc, controllers: True


def scenarios(controllers: list[Doc], domain: str) -> list[Scenario]:
    own = [c for c in controllers if c["domain_id"] == domain]
    other = [c for c in controllers if c["domain_id"] != domain]
    first = own[0]

    def controller_of(doc: Doc, by_id: dict[Any, Doc]) -> Doc | None:
        found = by_id.get(doc.get("controller"))
        return found if found and found["domain_id"] == doc["domain_id"] else None

    return [
        Scenario(
            "eq", [{"k": "status", "v": "SUCCESS", "o": "EQ"}], predicate=lambda d, c: d["status"] == "SUCCESS"
        ),
        Scenario(
            "eq null",
            [{"k": "schedule_id", "v": None, "o": "EQ"}],
            predicate=lambda d, c: d.get("schedule_id") is None,
        ),
        Scenario(
            "not",
            [{"k": "status", "v": "SUCCESS", "o": "NOT"}],
            predicate=lambda d, c: d["status"] != "SUCCESS",
        ),
        Scenario(
            "not null",
            [{"k": "scheduleId", "v": None, "o": "NOT"}],
            predicate=lambda d, c: d.get("schedule_id") is not None,
        ),
        Scenario(
            "exists on explicit null",
            [{"k": "finished_at", "v": True, "o": "EXISTS"}],
            predicate=lambda d, c: "finished_at" in d,
        ),
        Scenario(
            "exists false",
            [{"k": "filter", "v": False, "o": "EXISTS"}],
            predicate=lambda d, c: "filters" not in d and "filter" not in d,
        ),
        Scenario(
            "contain",
            [{"k": "job_id", "v": "A", "o": "CONTAIN"}],
            predicate=lambda d, c: has_text(d["job_id"], "a"),
        ),
        Scenario(
            "not_contain on an array",
            [{"k": "errors.message", "v": "R-3", "o": "NOT_CONTAIN"}],
            predicate=lambda d, c: not any(has_text(e["message"], "r-3") for e in d["errors"]),
        ),
        Scenario(
            "in",
            [{"k": "status", "v": ["ERROR", "TIMEOUT"], "o": "IN"}],
            predicate=lambda d, c: d["status"] in ("ERROR", "TIMEOUT"),
        ),
        Scenario(
            "not_in",
            [{"k": "project_id", "v": ["project-x"], "o": "NOT_IN"}],
            predicate=lambda d, c: d["project_id"] != "project-x",
        ),
        Scenario(
            "contain_in",
            [{"k": "job_id", "v": ["1", "2b"], "o": "CONTAIN_IN"}],
            predicate=lambda d, c: has_text(d["job_id"], "1") or has_text(d["job_id"], "2b"),
        ),
        Scenario(
            "not_contain_in (the deliberate fix)",
            [{"k": "job_id", "v": ["1", "2"], "o": "NOT_CONTAIN_IN"}],
            predicate=lambda d, c: not has_text(d["job_id"], "1") and not has_text(d["job_id"], "2"),
        ),
        Scenario(
            "match",
            [{"k": "errors", "v": {"error_code": "E_BUSY", "additional.attempt": 2}, "o": "MATCH"}],
            predicate=lambda d, c: any(
                e["error_code"] == "E_BUSY" and e["additional"]["attempt"] == 2 for e in d["errors"]
            ),
        ),
        Scenario(
            "match with camelCase keys",
            [{"k": "errors", "v": {"errorCode": "E_DENIED"}, "o": "MATCH"}],
            predicate=lambda d, c: "E_DENIED" in error_codes(d),
        ),
        Scenario(
            "regex",
            [{"k": "job_id", "v": "[0-4]$", "o": "REGEX"}],
            predicate=lambda d, c: re.search("[0-4]$", d["job_id"], re.IGNORECASE) is not None,
        ),
        Scenario(
            "regex_in",
            [{"k": "job_id", "v": ["a$", "^JOB-0+1"], "o": "REGEX_IN"}],
            predicate=lambda d, c: any(re.search(p, d["job_id"], re.IGNORECASE) for p in ("a$", "^JOB-0+1")),
        ),
        Scenario(
            "gt", [{"k": "total_tasks", "v": 15, "o": "GT"}], predicate=lambda d, c: d["total_tasks"] > 15
        ),
        Scenario(
            "gte with a numeric string",
            [{"k": "totalTasks", "v": "15", "o": "GTE"}],
            predicate=lambda d, c: d["total_tasks"] >= 15,
        ),
        Scenario(
            "lt and lte",
            [{"k": "remained_tasks", "v": 10, "o": "LT"}, {"k": "total_tasks", "v": 20, "o": "LTE"}],
            predicate=lambda d, c: d["remained_tasks"] < 10 and d["total_tasks"] <= 20,
        ),
        Scenario(
            "gt on a date given as text",
            [{"k": "created_at", "v": "2026-09-15T00:00:00Z", "o": "GT"}],
            predicate=lambda d, c: d["created_at"] > datetime(2026, 9, 15),
        ),
        Scenario(
            "datetime range",
            [
                {"k": "created_at", "v": "2026-09-10T00:00:00+09:00", "o": "DATETIME_GTE"},
                {"k": "created_at", "v": "2026-09-20T00:00:00Z", "o": "DATETIME_LT"},
            ],
            predicate=lambda d, c: datetime(2026, 9, 9, 15) <= d["created_at"] < datetime(2026, 9, 20),
        ),
        Scenario(
            "datetime_lte on a nullable date",
            [{"k": "finished_at", "v": "2026-09-20T00:00:00Z", "o": "DATETIME_LTE"}],
            predicate=lambda d, c: d["finished_at"] is not None and d["finished_at"] <= datetime(2026, 9, 20),
        ),
        Scenario(
            "filter path, legacy documents included",
            [{"k": "filter.region", "v": "eu-west-1", "o": "EQ"}],
            predicate=lambda d, c: stored_filter(d).get("region") == "eu-west-1",
        ),
        Scenario(
            "negated filter path",
            [{"k": "filter.region", "v": "EU", "o": "NOT_CONTAIN"}],
            predicate=lambda d, c: not has_text(stored_filter(d).get("region"), "eu"),
        ),
        Scenario(
            "errors.error_code",
            [{"k": "errors.error_code", "v": "E_BUSY", "o": "EQ"}],
            predicate=lambda d, c: "E_BUSY" in error_codes(d),
        ),
        Scenario(
            "errors.additional path",
            [{"k": "errors.additional.attempt", "v": 3, "o": "GTE"}],
            predicate=lambda d, c: any(e["additional"]["attempt"] >= 3 for e in d["errors"]),
        ),
        Scenario(
            "controller_id",
            [{"k": "controller_id", "v": first["controller_id"], "o": "EQ"}],
            predicate=lambda d, c: d.get("controller") == first["_id"],
        ),
        Scenario(
            "controller_id of another domain matches nothing",
            [{"k": "controller_id", "v": [x["controller_id"] for x in other], "o": "IN"}],
            predicate=lambda d, c: False,
        ),
        Scenario(
            "controller_info field",
            [{"k": "controller_info.provider", "v": "aws", "o": "EQ"}],
            predicate=lambda d, c: (controller_of(d, c) or {}).get("provider") == "aws",
        ),
        Scenario(
            "controller_info nested, camelCase",
            [{"k": "controllerInfo.pluginInfo.pluginId", "v": first["plugin_info"]["plugin_id"], "o": "EQ"}],
            predicate=lambda d, c: d.get("controller") == first["_id"],
        ),
        Scenario(
            "filter_or",
            filter_or=[{"k": "status", "v": "ERROR", "o": "EQ"}, {"k": "total_tasks", "v": 2, "o": "LT"}],
            predicate=lambda d, c: d["status"] == "ERROR" or d["total_tasks"] < 2,
        ),
        Scenario(
            "filter AND filter_or",
            [{"k": "project_id", "v": "project-y", "o": "EQ"}],
            filter_or=[{"k": "status", "v": "ERROR", "o": "EQ"}, {"k": "status", "v": "SUCCESS", "o": "EQ"}],
            predicate=lambda d, c: d["project_id"] == "project-y" and d["status"] in ("ERROR", "SUCCESS"),
        ),
        Scenario(
            "keyword ANDed with the filter (the deliberate fix)",
            [{"k": "status", "v": "SUCCESS", "o": "EQ"}],
            keyword=" 1 2F ",
            predicate=lambda d, c: (
                d["status"] == "SUCCESS" and (has_text(d["job_id"], "1") or has_text(d["job_id"], "2f"))
            ),
        ),
    ]
