"""The differential corpus: stored jobs with the edges that matter (null and missing keys, deleted
controllers, errors with `additional`), and SpaceONE queries over every operator and value type,
their combinations, sorts, pages, controller conditions, keywords and statistics stages."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN

Query = dict[str, Any]

RELATIVE = timedelta(days=80)
"""The queries' ``now - 80d``: python-core is asked once, when the module starts, and the gateway
later, so each reads its own ``now``."""
QUIET = timedelta(hours=2)
"""No stored date lies this close to ``now - 80d``: the two readings of ``now`` agree on every job."""


def _clear_of_now(value: Any, now: datetime) -> Any:
    """``value`` moved out of the window around ``now - 80d`` (a job there would match for one
    reading of ``now`` and not for the other)."""
    if not isinstance(value, datetime):
        return value
    aware = value.tzinfo is not None
    boundary = now - RELATIVE if aware else (now - RELATIVE).replace(tzinfo=None)
    if abs(value - boundary) >= QUIET:
        return value
    return value + 2 * QUIET if value >= boundary else value - 2 * QUIET


def documents() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """90 jobs of the domain (under the gateway's default page of 100) and some of another."""
    jobs, controllers = factories.dataset(16, (DOMAIN, OTHER_DOMAIN), 90)
    now = datetime.now(UTC)
    for index, job in enumerate(jobs):
        if "filter" in job:  # python-core's model reads `filters` only (legacy documents aside)
            job["filters"] = job.pop("filter")
        job["created_at"] += timedelta(seconds=index)  # distinct dates: the default order is total
        if index % 7 == 0:
            del job["schedule_id"]  # missing, beside the explicit nulls
        if index % 11 == 0:
            job["filters"] = {**job.get("filters", {}), "size": None}
        if index % 13 == 0:
            job.pop("finished_at")
        for key in ("created_at", "updated_at", "finished_at"):
            if key in job:
                job[key] = _clear_of_now(job[key], now)
    return jobs, controllers


def _conditions(controller_id: str) -> dict[str, list[Any]]:
    """Typical values of each key, beside the generic ones every key gets."""
    return {
        "job_id": ["job-00000000000a", "00001", "JOB-"],
        "status": ["ERROR", "error", "SUCC"],
        "total_tasks": [5, 5.5, "5", "10.5", 12],
        "remained_tasks": [0, 3],
        "filter.region": ["us-east-1", "us", "US-EAST-1"],
        "filter.size": [3, "3"],
        "filter": [{"region": "us-east-1"}],
        "schedule_id": ["schedule-a", "sched"],
        "project_id": ["project-x"],
        "errors.error_code": ["E_BUSY", "busy"],
        "errors.additional.attempt": [2],
        "errors": [{"error_code": "E_BUSY"}],
        "created_at": ["2026-09-10T00:00:00Z", "2026-09-10", "2026-09-15T08:00:00+09:00", "now - 80d"],
        "finished_at": ["2026-09-20T00:00:00Z", "now/d - 70d"],
        "controller_id": [controller_id, "controller-0"],
        "controller_info.provider": ["aws", "AW"],
        "controller_info.tags.team": ["sre"],
    }


GENERIC = [None, True, 1, 5.5, {"a": 1}]
EDGES = {"job_id": ["", ["x"]], "filter.region": ["", ["x"]]}  # empty text, a list for a scalar
SCALAR_OPERATORS = ("eq", "not", "contain", "not_contain", "gt", "gte", "lt", "lte", "regex")
LIST_OPERATORS = ("in", "not_in", "contain_in", "not_contain_in", "regex_in")
DATE_OPERATORS = tuple(f"{kind}_{op}" for kind in ("datetime", "timediff") for op in ("gt", "gte", "lt", "lte"))
TIME_EXPRESSIONS = [
    "now",
    "now/d",
    "now/w",
    "now/m",
    "now - 80d",
    "now/d - 70d",
    "now/w + 1w",
    "now - 2000h",
    "now-80d",
    "now - 1000000s",
    "now/m - 1d",
    "NOW - 80d",
    "now  - 80d",
    " now - 80d",
    "now | 80d",
    "now - 80x",
    "2026-09-10",
    5,
]
DATE_STRINGS = ["2026-09-10T00:00:00Z", "2026-09-10", "2026-09-10t00:00:00z", "2026-09", "yesterday", 5]


def list_queries(controller_id: str) -> list[Query]:
    """Every operator with every value type on every kind of key, then the combinations."""
    typical = _conditions(controller_id)
    queries: list[Query] = []
    for key, values in typical.items():
        scalars = [*values, *GENERIC, *EDGES.get(key, [])]
        for operator in SCALAR_OPERATORS:
            queries += [{"filter": [{"k": key, "v": value, "o": operator}]} for value in scalars]
        lists = [[], values[:1], values[:2], [None], [1, "x"], values[0], [{"a": 1}]]
        for operator in LIST_OPERATORS:
            queries += [{"filter": [{"k": key, "v": value, "o": operator}]} for value in lists]
        queries += [{"filter": [{"k": key, "v": value, "o": "exists"}]} for value in (True, False, "true")]
        queries += [
            {"filter": [{"k": key, "v": value, "o": "match"}]}
            for value in ({}, {"error_code": "E_BUSY"}, {"additional.attempt": 1}, "E_BUSY")
        ]
    for key in ("created_at", "finished_at", "total_tasks"):
        for operator in DATE_OPERATORS:
            if operator.startswith("timediff"):
                pool = TIME_EXPRESSIONS if operator in ("timediff_gt", "timediff_lte") else TIME_EXPRESSIONS[:5]
            else:
                pool = DATE_STRINGS
            if key == "total_tasks":
                pool = pool[:2]
            queries += [{"filter": [{"k": key, "v": value, "o": operator}]} for value in pool]
    queries += [
        {"filter": [{"k": "status", "v": "ERROR", "o": spelling}]} for spelling in ("EQ", "Eq", "equal")
    ]
    for key in ("job_id", "filter.region", "errors.error_code", "schedule_id"):  # dates on text
        queries += [
            {"filter": [{"k": key, "v": value, "o": operator}]}
            for operator, value in (("datetime_gt", "2026-09-10"), ("timediff_lt", "now"))
        ]
    queries += [
        {"filter": [condition]}
        for condition in (
            {"v": "ERROR", "o": "eq"},
            {"k": "status", "v": "ERROR"},
            {"k": "status", "o": "eq"},
            {"k": "", "v": 1, "o": "eq"},
            {"key": "status", "value": "ERROR", "operator": "eq"},
            {"k": "nothing", "v": 1, "o": "eq"},
            {"k": "mark_error", "v": 0, "o": "eq"},
            {"k": "id", "v": "x", "o": "eq"},
            {"k": "controller", "v": None, "o": "eq"},
            {"k": "domain_id", "v": OTHER_DOMAIN, "o": "eq"},
            {"k": "filter.region.$ne", "v": 1, "o": "eq"},
        )
    ]
    queries += _more_keys_and_values()
    queries += _combinations(controller_id)
    queries += _sorts_and_pages()
    queries += _keywords()
    return queries


def _more_keys_and_values() -> list[Query]:
    """The remaining kinds of keys with a few values each, and texts that are special somewhere."""
    keys = {
        "updated_at": "2026-09-10T00:00:00Z",
        "errors.message": "R-1 F",
        "controller_info.name": "controller 1",
        "controller_info.plugin_info.plugin_id": "plugin-1",
        "controller_info.created_at": "2026-08-30T12:00:00Z",
        "controller_info.tags": {"team": "sre"},
        "domain_id": DOMAIN,
    }
    queries: list[Query] = []
    for key, value in keys.items():
        queries += [
            {"filter": [{"k": key, "v": v, "o": o}]}
            for o in ("eq", "not", "contain", "gt", "regex")
            for v in (value, None, 1)
        ]
        queries += [{"filter": [{"k": key, "v": v, "o": o}]} for o in ("in", "not_in") for v in ([], [value])]
    odd = [-1, 2**40, "a.b", "(", "\\", "é", " ERROR", "^job"]
    for key in ("job_id", "filter.region"):
        queries += [{"filter": [{"k": key, "v": v, "o": o}]} for o in ("eq", "contain", "regex") for v in odd]
    return queries


def _combinations(controller_id: str) -> list[Query]:
    error = {"k": "status", "v": "ERROR", "o": "eq"}
    many = {"k": "total_tasks", "v": 20, "o": "gte"}
    region = {"k": "filter.region", "v": "eu", "o": "contain"}
    aws = {"k": "controller_info.provider", "v": "aws", "o": "eq"}
    return [
        {"filter": [error, many]},
        {"filter_or": [error, many]},
        {"filter": [region], "filter_or": [error, many]},
        {"filter": [aws, region]},
        {"filter_or": [aws, {"k": "controller_id", "v": None, "o": "eq"}]},
        {"filter": [{"k": "controller_id", "v": controller_id, "o": "not"}, error]},
        {"filter": [{"k": "controller_info.provider", "v": ["aws"], "o": "not_in"}]},
        {"filter": [error], "keyword": "00000000001 00000000002"},
        {"filter": [{"k": "errors.error_code", "v": ["E_BUSY", "E_DENIED"], "o": "not_contain_in"}]},
        {"filter": [{"k": "job_id", "v": ["00a", "00b"], "o": "not_contain_in"}]},
    ]


SORT_KEYS = (
    "job_id",
    "status",
    "total_tasks",
    "remained_tasks",
    "schedule_id",
    "project_id",
    "created_at",
    "updated_at",
    "finished_at",
    "filter.region",
    "filter.size",
    "errors.error_code",
    "errors.additional.attempt",
    "controller_info.provider",
    "filter",
    "errors",
)
PAGES: list[dict[str, Any]] = [
    {"start": 3, "limit": 5},
    {"start": 0, "limit": 4},
    {"limit": 7},
    {"start": 80, "limit": 30},
    {"start": 5},
    {"limit": 0},
    {"start": 2, "limit": 0},
]


def _sorts_and_pages() -> list[Query]:
    queries: list[Query] = []
    for key, desc in itertools.product(SORT_KEYS, (False, True)):
        queries.append({"sort": [{"key": key, "desc": desc}], "page": {"limit": 20}})
    queries.append({"sort": [{"key": "status"}, {"key": "total_tasks", "desc": True}]})
    queries.append({"sort": [{"key": "schedule_id", "desc": True}, {"key": "job_id"}]})
    queries += [
        {"sort": [{"key": key}], "page": {"limit": 5}}
        for key in ("nothing", "id", "_id", "mark_error", "domain_id")
    ]
    for page in PAGES:
        queries.append({"page": page})
        queries.append({"sort": [{"key": "total_tasks"}], "page": page})
        queries.append({"filter": [{"k": "status", "v": "ERROR", "o": "eq"}], "page": page, "count_only": True})
    return queries


def _keywords() -> list[Query]:
    return [
        {"keyword": word}
        for word in (
            "00000000001",
            "00000000001 00000000002",
            "JOB-00000000000A",
            "  00000000001  ",
            "0001\t0002",
            "0001\u00a00002",
            "0001\n0002",
            " ",
            "",
            "nothing",
            "000000000001 nothing",
        )
    ]


# statistics ---------------------------------------------------------------------------------


def _group(keys: list[dict[str, Any]], fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {"group": {"keys": keys, "fields": fields}}


def stat_queries() -> list[Query]:
    count = {"operator": "count", "name": "n"}
    by_status = [{"key": "status", "name": "status"}]
    queries: list[Query] = []
    for key in (
        "status",
        "schedule_id",
        "project_id",
        "total_tasks",
        "filter.region",
        "filters.region",
        "finished_at",
        "errors.error_code",
    ):
        queries.append({"aggregate": [_group([{"key": key, "name": "k"}], [count])]})
    for operator in ("sum", "average", "max", "min", "add_to_set"):
        for key in ("total_tasks", "remained_tasks", "finished_at", "schedule_id"):
            queries.append(
                {"aggregate": [_group(by_status, [{"key": key, "operator": operator, "name": "v"}])]}
            )
    queries += [
        {
            "aggregate": [
                _group(
                    by_status,
                    [
                        {
                            "operator": "count",
                            "name": "n",
                            "conditions": [{"k": "total_tasks", "v": 10, "o": "gte"}],
                        }
                    ],
                )
            ]
        },
        {
            "aggregate": [
                _group(
                    by_status,
                    [
                        {
                            "key": "total_tasks",
                            "operator": "sum",
                            "name": "n",
                            "conditions": [{"k": "remained_tasks", "v": 0, "o": "eq"}],
                        }
                    ],
                )
            ]
        },
        {
            "aggregate": [
                _group(
                    by_status,
                    [
                        {
                            "key": "total_tasks",
                            "operator": "average",
                            "name": "n",
                            "conditions": [{"k": "status", "v": "ERROR", "o": "not"}],
                        }
                    ],
                )
            ]
        },
        {
            "aggregate": [
                _group(
                    by_status,
                    [
                        {
                            "operator": "push",
                            "name": "p",
                            "fields": [{"key": "job_id", "name": "id"}, {"key": "total_tasks", "name": "t"}],
                        }
                    ],
                ),
                {
                    "project": {
                        "fields": [
                            {"key": "status", "name": "status"},
                            {"key": "p", "name": "size", "operator": "size"},
                        ]
                    }
                },
            ]
        },
        {"aggregate": [_group(by_status, [{"key": "filters", "operator": "merge_objects", "name": "m"}])]},
        {
            "aggregate": [
                _group([{"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"}], [count]),
                {"sort": [{"key": "day"}]},
            ]
        },
        {
            "aggregate": [
                _group(
                    [
                        {"key": "created_at", "name": "m", "date_format": "month"},
                        {"key": "created_at", "name": "y", "date_format": "year"},
                        {"key": "created_at", "name": "d", "date_format": "day"},
                    ],
                    [count],
                )
            ]
        },
        {
            "aggregate": [
                {"unwind": {"path": "errors"}},
                _group([{"key": "errors.error_code", "name": "code"}], [count]),
                {"sort": [{"key": "code", "desc": True}]},
            ]
        },
        {"aggregate": [{"unwind": {"path": "errors"}}, {"count": {"name": "errors"}}]},
        {"aggregate": [{"count": {"name": "jobs"}}]},
        {"filter": [{"k": "status", "v": "NOTHING", "o": "eq"}], "aggregate": [{"count": {"name": "jobs"}}]},
        {"aggregate": [_group(by_status, [count]), {"sort": [{"key": "status"}]}, {"skip": 1}, {"limit": 2}]},
        {
            "aggregate": [_group(by_status, [count]), {"sort": [{"key": "status"}]}],
            "page": {"start": 2, "limit": 3},
        },
        {"aggregate": [_group(by_status, [count]), {"sort": [{"key": "status"}]}], "page": {"limit": 0}},
        {
            "aggregate": [
                _group(by_status, [count, {"key": "total_tasks", "operator": "sum", "name": "t"}]),
                _group(
                    [],
                    [
                        {"key": "n", "operator": "max", "name": "most"},
                        {"key": "status", "operator": "add_to_set", "name": "statuses"},
                    ],
                ),
            ]
        },
        {
            "aggregate": [
                _group(by_status, [count]),
                {"project": {"fields": [{"key": "n", "name": "n"}], "exclude_keys": True}},
            ]
        },
        {
            "aggregate": [
                {"sort": [{"key": "job_id"}]},
                {"limit": 3},
                {"project": {"fields": [{"key": "job_id", "name": "id"}]}},
            ]
        },
        {
            "filter": [{"k": "status", "v": ["ERROR", "TIMEOUT"], "o": "in"}],
            "filter_or": [
                {"k": "total_tasks", "v": 5, "o": "gt"},
                {"k": "errors.error_code", "v": "E_BUSY", "o": "eq"},
            ],
            "aggregate": [_group([{"key": "project_id", "name": "p"}], [count])],
        },
        {
            "aggregate": [
                _group(
                    by_status,
                    [
                        {
                            "operator": "count",
                            "name": "n",
                            "conditions": [{"k": "created_at", "v": "2026-09-15T00:00:00Z", "o": "gte"}],
                        }
                    ],
                )
            ]
        },
        {
            "aggregate": [
                _group(
                    by_status,
                    [
                        {
                            "operator": "count",
                            "name": "n",
                            "conditions": [
                                {"k": "schedule_id", "v": "schedule-a", "o": "eq"},
                                {"k": "total_tasks", "v": 3, "o": "gt"},
                            ],
                        }
                    ],
                )
            ]
        },
        {
            "aggregate": [
                {"sort": [{"key": "created_at"}]},
                _group(
                    by_status,
                    [
                        {"key": "job_id", "operator": "first", "name": "first"},
                        {"key": "job_id", "operator": "last", "name": "last"},
                    ],
                ),
            ]
        },
        {"aggregate": [_group([{"key": "controller", "name": "c"}], [count])]},
        {
            "aggregate": [
                _group([{"key": "status", "name": "s"}, {"key": "project_id", "name": "p"}], [count]),
                _group(
                    [{"key": "s", "name": "s"}],
                    [
                        {"key": "n", "operator": "sum", "name": "n"},
                        {"key": "p", "operator": "add_to_set", "name": "ps"},
                    ],
                ),
                {"sort": [{"key": "n", "desc": True}, {"key": "s"}]},
            ]
        },
        {
            "aggregate": [
                {"unwind": {"path": "errors"}},
                _group([{"key": "errors.additional.attempt", "name": "a"}], [count]),
            ]
        },
        {"distinct": "filter.region"},
        {"distinct": "status", "page": {"limit": 2}},
        {"distinct": "status"},
        {"distinct": "errors.error_code"},
        {"distinct": "project_id", "page": {"start": 2, "limit": 1}},
        {"aggregate": []},
        {"aggregate": [_group([], [])]},
        {"aggregate": [{"bucket": {}}]},
        {"aggregate": [_group(by_status, [{"operator": "median", "name": "x"}])]},
    ]
    return queries
