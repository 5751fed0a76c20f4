"""The SpaceONE query compiler: the MongoDB filter each operator produces, and every error."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from bson.regex import Regex

from gateway.errors import QueryError
from gateway.mongo.expr import All, AnyOf, Condition, Not, SortKey, keyword_expr
from gateway.mongo.query import (
    QueryLimits,
    compile_filter,
    compile_sort,
    parse_timediff,
    public_condition,
)
from gateway.settings import Settings

NOW = datetime(2026, 11, 26, 15, 30, 0, tzinfo=UTC)  # a Thursday
LIMITS = QueryLimits.from_settings(Settings())


def compiled(key: str, operator: str, value: object) -> dict[str, object]:
    return compile_filter(Condition(key, operator, value), LIMITS, now=NOW).filter


def test_eq_and_not_keep_the_value_exact() -> None:
    assert compiled("status", "eq", "SUCCESS") == {"status": "SUCCESS"}
    assert compiled("project_id", "eq", None) == {"project_id": None}
    assert compiled("status", "not", "ERROR") == {"status": {"$ne": "ERROR"}}


def test_exists() -> None:
    assert compiled("finished_at", "exists", True) == {"finished_at": {"$exists": True}}


def test_contain_escapes_the_text_and_ignores_case() -> None:
    assert compiled("job_id", "contain", "a.b*") == {"job_id": Regex(re.escape("a.b*"), "i")}
    assert compiled("job_id", "not_contain", "x") == {"$nor": [{"job_id": Regex("x", "i")}]}


def test_list_operators() -> None:
    assert compiled("status", "in", ["A", "B"]) == {"status": {"$in": ["A", "B"]}}
    assert compiled("status", "not_in", ["A"]) == {"status": {"$nin": ["A"]}}
    assert compiled("job_id", "contain_in", ["a", "b"]) == {
        "$or": [{"job_id": Regex("a", "i")}, {"job_id": Regex("b", "i")}]
    }


def test_not_contain_in_requires_every_text_to_be_absent() -> None:
    assert compiled("job_id", "not_contain_in", ["a", "b"]) == {
        "$nor": [{"job_id": Regex("a", "i")}, {"job_id": Regex("b", "i")}]
    }
    assert compiled("job_id", "not_contain_in", []) == {}


def test_or_operators_over_an_empty_list_match_nothing() -> None:
    nothing = {"_id": {"$in": []}}
    assert compiled("job_id", "contain_in", []) == nothing
    assert compiled("job_id", "regex_in", []) == nothing
    assert compiled("job_id", "in", []) == {"job_id": {"$in": []}}


def test_match_builds_elem_match_with_api_names() -> None:
    assert compiled("errors", "match", {"errorCode": "E1", "additional.host": "h"}) == {
        "errors": {"$elemMatch": {"error_code": "E1", "additional.host": "h"}}
    }


def test_regex_is_not_escaped() -> None:
    assert compiled("job_id", "regex", "^job-0+") == {"job_id": Regex("^job-0+", "i")}
    assert compiled("job_id", "regex_in", ["^a", "b$"]) == {
        "$or": [{"job_id": Regex("^a", "i")}, {"job_id": Regex("b$", "i")}]
    }


def test_comparisons_coerce_to_the_field_type() -> None:
    assert compiled("total_tasks", "gt", "15") == {"total_tasks": {"$gt": 15}}
    assert compiled("created_at", "lte", "2020-09-01T12:00:00+09:00") == {
        "created_at": {"$lte": datetime(2020, 9, 1, 3, 0, 0)}
    }


def test_datetime_operators_parse_iso_dates_to_naive_utc() -> None:
    assert compiled("finished_at", "datetime_gte", "2020-09-01T00:00:00Z") == {
        "finished_at": {"$gte": datetime(2020, 9, 1)}
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", datetime(2026, 11, 26, 15, 30)),
        ("now/d", datetime(2026, 11, 26)),
        ("now/w", datetime(2026, 11, 23)),
        ("now/d - 7d", datetime(2026, 11, 19)),
        ("now + 2h", datetime(2026, 11, 26, 17, 30)),
        ("now-30m", datetime(2026, 11, 26, 15, 0)),
        ("now/w - 1w", datetime(2026, 11, 16)),
        ("now/m", datetime(2026, 11, 1)),
        ("now/m - 1d", datetime(2026, 10, 31)),
        ("now - 1000000s", datetime(2026, 11, 26, 15, 30) - timedelta(seconds=1000000)),
        (" now - 10s", datetime(2026, 11, 26, 15, 29, 50)),
        ("  now/d  ", datetime(2026, 11, 26)),
    ],
)
def test_timediff_values(text: str, expected: datetime) -> None:
    assert parse_timediff(text, NOW, "t") == expected
    assert compiled("created_at", "timediff_lt", text) == {"created_at": {"$lt": expected}}


def test_filter_reads_filters_and_the_legacy_filter_field() -> None:
    assert compiled("filter.region", "eq", "x") == {
        "$or": [
            {"$and": [{"filters": {"$exists": True}}, {"filters.region": "x"}]},
            {"$and": [{"filters": {"$exists": False}}, {"filter.region": "x"}]},
        ]
    }


def test_camel_case_names_are_accepted() -> None:
    assert compiled("totalTasks", "gte", 3) == {"total_tasks": {"$gte": 3}}
    assert compiled("errors.errorCode", "eq", "E") == {"errors.error_code": "E"}


def test_controller_conditions_become_sub_queries() -> None:
    plan = compile_filter(
        All((Condition("status", "eq", "ERROR"), Condition("controllerInfo.pluginInfo.pluginId", "eq", "p"))),
        LIMITS,
        now=NOW,
    )
    assert plan.controller_filters == [{"plugin_info.plugin_id": "p"}]
    ids = [ObjectId(), ObjectId()]
    assert plan.resolve([ids]) == {"$and": [{"status": "ERROR"}, {"controller": {"$in": ids}}]}
    assert compile_filter(Condition("controller_id", "in", ["c-1"]), LIMITS).controller_filters == [
        {"controller_id": {"$in": ["c-1"]}}
    ]


def test_and_or_not_and_keyword() -> None:
    expr = All(
        (
            Condition("status", "eq", "A"),
            AnyOf((Condition("status", "eq", "B"), Condition("total_tasks", "gt", 1))),
            Not(Condition("project_id", "eq", "p")),
        )
    )
    assert compile_filter(expr, LIMITS).filter == {
        "$and": [
            {"status": "A"},
            {"$or": [{"status": "B"}, {"total_tasks": {"$gt": 1}}]},
            {"$nor": [{"project_id": "p"}]},
        ]
    }
    keyword = keyword_expr("  ab   cd ")
    assert keyword is not None
    assert compile_filter(keyword, LIMITS).filter == {
        "$or": [{"job_id": Regex("ab", "i")}, {"job_id": Regex("cd", "i")}]
    }
    assert keyword_expr("   ") is None


def test_an_empty_filter_matches_everything() -> None:
    assert compile_filter(All(), LIMITS).filter == {}
    assert compile_filter(AnyOf(), LIMITS).filter == {}


def test_sort_appends_the_id_tie_breaker_and_defaults_to_created_at_descending() -> None:
    assert compile_sort([]) == [("created_at", -1), ("_id", 1)]
    assert compile_sort([SortKey("totalTasks", True), SortKey("job_id")]) == [
        ("total_tasks", -1),
        ("job_id", 1),
        ("_id", 1),
    ]
    assert compile_sort([SortKey("filter.size")]) == [("filters.size", 1), ("_id", 1)]


@pytest.mark.parametrize(
    ("condition", "code", "fragment"),
    [
        (Condition("status", "in", "SUCCESS"), "ERROR_OPERATOR_LIST_VALUE_TYPE", "list"),
        (Condition("status", "in", [{"$ne": None}]), "ERROR_OPERATOR_LIST_VALUE_TYPE", "list"),
        (Condition("status", "eq", ["A"]), "ERROR_OPERATOR_VALUE_TYPE", "single value"),
        (Condition("status", "eq", {"$ne": None}), "ERROR_OPERATOR_VALUE_TYPE", "not an object"),
        (Condition("status", "not", {"$where": "1"}), "ERROR_OPERATOR_VALUE_TYPE", "not an object"),
        (Condition("errors", "match", "E"), "ERROR_OPERATOR_DICT_VALUE_TYPE", "object"),
        (Condition("errors", "match", {"$where": "1"}), "ERROR_DB_QUERY", "invalid field"),
        (Condition("errors", "match", {"code": {"$ne": 1}}), "ERROR_OPERATOR_DICT_VALUE_TYPE", "code"),
        (Condition("finished_at", "exists", "yes"), "ERROR_OPERATOR_BOOLEAN_TYPE", "true or false"),
        (Condition("status", "like", "A"), "ERROR_DB_QUERY", "unknown operator 'like'"),
        (Condition("", "eq", "A"), "ERROR_DB_QUERY", "no key"),
        (Condition("status", "", "A"), "ERROR_DB_QUERY", "no operator"),
        (Condition("mark_error", "eq", 1), "ERROR_DB_QUERY", "unknown field 'mark_error'"),
        (Condition("nope", "eq", 1), "ERROR_DB_QUERY", "unknown field 'nope'"),
        (Condition("filter.$where", "eq", 1), "ERROR_DB_QUERY", "invalid field"),
        (Condition("filter.a\x00b", "eq", 1), "ERROR_DB_QUERY", "invalid field"),
        (Condition("created_at", "datetime_gt", "yesterday"), "ERROR_DB_QUERY", "ISO-8601"),
        (Condition("created_at", "gt", "2020-13-45"), "ERROR_DB_QUERY", "ISO-8601"),
        (Condition("created_at", "timediff_gt", "now - 7 years"), "ERROR_DB_QUERY", "time difference"),
        (Condition("created_at", "timediff_gt", "NOW - 1d"), "ERROR_DB_QUERY", "time difference"),
        (Condition("created_at", "timediff_gt", "now  - 1d"), "ERROR_DB_QUERY", "time difference"),
        (Condition("created_at", "timediff_gt", "now | 1d"), "ERROR_DB_QUERY", "time difference"),
        (Condition("created_at", "timediff_gt", "now - 1|"), "ERROR_DB_QUERY", "time difference"),
        (Condition("total_tasks", "timediff_gt", "now"), "ERROR_DB_QUERY", "compares dates"),
        (Condition("total_tasks", "datetime_lt", "2026-09-01"), "ERROR_DB_QUERY", "compares dates"),
        (Condition("job_id", "regex", 5), "ERROR_DB_QUERY", "string pattern"),
        (Condition("job_id", "regex", None), "ERROR_DB_QUERY", "string pattern"),
        (Condition("errors", "eq", 1), "ERROR_DB_QUERY", "use 'match'"),
        (Condition("errors", "in", ["x"]), "ERROR_DB_QUERY", "use 'match'"),
        (Condition("total_tasks", "gt", "many"), "ERROR_DB_QUERY", "number"),
        (Condition("job_id", "regex", "(unclosed"), "ERROR_DB_QUERY", "regular expression"),
        (Condition("job_id", "contain", None), "ERROR_DB_QUERY", "not null"),
        (Condition("total_tasks", "eq", 2**64), "ERROR_DB_QUERY", "64-bit"),
        (Condition("total_tasks", "gt", "36893488147419103232"), "ERROR_DB_QUERY", "64-bit"),
        (Condition("total_tasks", "in", [1, -(2**63) - 1]), "ERROR_DB_QUERY", "64-bit"),
        (Condition("total_tasks", "gt", "1_000"), "ERROR_DB_QUERY", "number"),
        (Condition("total_tasks", "gt", "nan"), "ERROR_DB_QUERY", "number"),
        (Condition("total_tasks", "gt", float("inf")), "ERROR_DB_QUERY", "finite"),
        (Condition("job_id", "eq", "a\ud800"), "ERROR_DB_QUERY", "Unicode"),
        (Condition("filter.\ud800", "eq", 1), "ERROR_DB_QUERY", "invalid field"),
        (Condition("job_id", "contain", "a\x00b"), "ERROR_DB_QUERY", "NUL"),
        (Condition("created_at", "timediff_gt", "now - 999999w"), "ERROR_DB_QUERY", "range"),
        (Condition("created_at", "datetime_gt", "0001-01-01T00:00:00+01:00"), "ERROR_DB_QUERY", "range"),
        (Condition("x" * 5000, "eq", 1), "ERROR_DB_QUERY", "…"),
    ],
)
def test_bad_conditions_are_refused_with_the_spaceone_code(
    condition: Condition, code: str, fragment: str
) -> None:
    with pytest.raises(QueryError) as raised:
        compile_filter(condition, LIMITS, now=NOW)
    assert raised.value.spaceone_code == code
    assert fragment in raised.value.message


def test_public_conditions_cannot_use_internal_operators() -> None:
    with pytest.raises(QueryError, match="unknown operator 'has_elements'"):
        public_condition("errors", "has_elements", True)
    assert public_condition("status", "EQ", "A").operator == "EQ"


def test_limits_on_conditions_depth_and_regex_length() -> None:
    limits = QueryLimits(max_conditions=3, max_depth=2, max_regex_length=5, max_list_values=3)
    with pytest.raises(QueryError, match="max_list_values"):
        compile_filter(Condition("status", "in", ["a", "b", "c", "d"]), limits)
    with pytest.raises(QueryError, match="max_filter_conditions"):
        compile_filter(All(tuple(Condition("status", "eq", "A") for _ in range(4))), limits)
    with pytest.raises(QueryError, match="max_filter_depth"):
        compile_filter(All((All((All((Condition("status", "eq", "A"),)),)),)), limits)
    with pytest.raises(QueryError, match="max_regex_length"):
        compile_filter(Condition("job_id", "regex", "a" * 6), limits)
    with pytest.raises(QueryError, match="max_regex_length"):
        compile_filter(Condition("job_id", "contain", "a" * 6), limits)


@pytest.mark.parametrize("key", ["controller_id", "controller_info.name", "nope"])
def test_sort_keys_outside_the_allow_list_are_refused(key: str) -> None:
    with pytest.raises(QueryError):
        compile_sort([SortKey(key)])
