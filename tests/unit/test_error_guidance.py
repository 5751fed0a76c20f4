"""The guidance in error messages, unit by unit: parameter names per front door, the closest valid
name from the catalogue or the operator lists, and where JSON breaks."""

from __future__ import annotations

import difflib
import json

import pytest

from gateway.auth import Principal
from gateway.errors import (
    Forbidden,
    GatewayError,
    InvalidParameter,
    QueryError,
    RequiredParameter,
    camel_case,
    json_mistake,
    suggestion,
)
from gateway.http.protocol import RequestRejected, decode_body
from gateway.mongo import stats
from gateway.mongo.expr import Condition, SortKey
from gateway.mongo.fields import FIELD_NAMES, resolve_job_field, resolve_sort_field
from gateway.mongo.query import QueryLimits, compile_filter, compile_sort
from gateway.settings import Settings
from gateway.spaceone.jobs_query import parse_jobs_query

STATS_LIMITS = stats.StatsLimits.from_settings(Settings())

LIMITS = {"default_page_size": 10, "max_page_size": 100}


def message_of(error: pytest.ExceptionInfo[GatewayError]) -> str:
    return error.value.message


# parameter names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snake", "camel"),
    [
        ("domain_id", "domainId"),
        ("page.limit", "page.limit"),
        ("query.filter_or[10].k", "query.filterOr[10].k"),
        ("aggregate[0].group.keys[2].date_format", "aggregate[0].group.keys[2].dateFormat"),
    ],
)
def test_camel_case_spells_each_segment_as_graphql_does(snake: str, camel: str) -> None:
    assert camel_case(snake) == camel


def test_an_error_naming_a_parameter_has_a_message_per_front_door() -> None:
    error = InvalidParameter("keys[0].date_format 'date_format' is wrong", parameter="keys[0].date_format")
    assert error.spaceone_message == "keys[0].date_format 'date_format' is wrong"
    assert error.message == str(error) == "keys[0].dateFormat 'date_format' is wrong"  # client text kept
    plain = QueryError("unknown field 'x'")
    assert plain.message == plain.spaceone_message == str(plain) == "unknown field 'x'"


def test_the_domain_rules_name_domain_id_for_rest_and_domain_id_for_graphql() -> None:
    with pytest.raises(RequiredParameter) as missing:
        Principal().domain_for(None)
    assert missing.value.spaceone_message == "domain_id is required"
    assert missing.value.message == "domainId is required"
    with pytest.raises(Forbidden) as other:
        Principal(domain_id="domain-a").domain_for("domain-b")
    assert other.value.spaceone_message == "domain_id differs from the domain of the token"
    assert other.value.message == "domainId differs from the domain of the token"


# closest names -----------------------------------------------------------------------------------


def test_suggestion_names_the_closest_choice_or_lists_them() -> None:
    choices = ("alpha", "beta", "gamma")
    assert suggestion("alpah", choices, "letters") == "; did you mean 'alpha'?"
    assert suggestion("zzz", choices, "letters") == "; valid letters: alpha, beta, gamma"
    assert suggestion("zzz", choices, "letters", listed=("alpha",)) == "; valid letters: alpha"
    assert suggestion("btea", choices, "letters", prefix="greek.") == "; did you mean 'greek.beta'?"


@pytest.mark.parametrize("name", ["staus", "createdAtt", "errors.eror_code", "remaining_tasks", "sched_id"])
def test_an_unknown_field_names_the_closest_catalogue_field(name: str) -> None:
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
    expected = difflib.get_close_matches(snake, FIELD_NAMES, n=1)
    assert expected
    with pytest.raises(QueryError) as caught:
        resolve_job_field(name)
    assert message_of(caught) == f"unknown field '{name}'; did you mean '{expected[0]}'?"


def test_an_unknown_controller_field_is_matched_among_controller_fields() -> None:
    prefix = "controller_info."
    controller_fields = [n.removeprefix(prefix) for n in FIELD_NAMES if n.startswith(prefix)]
    with pytest.raises(QueryError) as near:
        resolve_job_field("controllerInfo.provder")
    close = difflib.get_close_matches("provder", controller_fields, n=1)
    assert message_of(near) == f"unknown field 'controllerInfo.provder'; did you mean '{prefix}{close[0]}'?"
    with pytest.raises(QueryError) as far:
        resolve_job_field("controller_info.zzz")
    top = ", ".join(dict.fromkeys(n.split(".")[0] for n in controller_fields))
    assert message_of(far) == f"unknown field 'controller_info.zzz'; valid controller_info fields: {top}"


def test_an_unsortable_field_lists_exactly_the_fields_that_sort() -> None:
    sortable = []
    for name in FIELD_NAMES:
        try:
            resolve_sort_field(name)
        except QueryError:
            continue
        sortable.append(name)
    with pytest.raises(QueryError) as caught:
        compile_sort([SortKey("controller_id")])
    assert message_of(caught) == f"cannot sort by 'controller_id'; sortable fields: {', '.join(sortable)}"


def test_the_compiler_suggests_an_operator_too() -> None:
    with pytest.raises(QueryError) as caught:
        compile_filter(Condition("status", "regx", "^E"), QueryLimits.from_settings(Settings()))
    assert message_of(caught) == "unknown operator 'regx' in the condition on 'status'; did you mean 'regex'?"


def test_rest_parsing_suggests_the_closest_parameter_and_field() -> None:
    with pytest.raises(InvalidParameter) as parameter:
        parse_jobs_query({"domain_id": "d", "query": {"countOnli": True}}, **LIMITS)
    assert message_of(parameter) == "unknown parameter 'count_onli' in query; did you mean 'count_only'?"
    with pytest.raises(QueryError) as only:
        parse_jobs_query({"domain_id": "d", "query": {"only": ["finishd_at"]}}, **LIMITS)
    assert message_of(only) == "unknown field 'finishd_at'; did you mean 'finished_at'?"


NUMBER_OPERATOR = Condition("status", 7, "ERROR")  # type: ignore[arg-type]  # REST JSON may send one


def group(*fields: stats.GroupField, keys: tuple[stats.GroupKey, ...] = ()) -> stats.Group:
    return stats.Group(keys or (stats.GroupKey("status", "status"),), fields)


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        (
            group(stats.GroupField("n", "cnt")),
            "unknown operator 'cnt' in 'aggregate[0].group.fields[0].operator'; "
            f"did you mean '{difflib.get_close_matches('cnt', stats.GROUP_OPERATORS, n=1)[0]}'?",
        ),
        (
            group(stats.GroupField("n", "tally")),
            "unknown operator 'tally' in 'aggregate[0].group.fields[0].operator'"
            f"; valid operators: {', '.join(stats.GROUP_OPERATORS)}",
        ),
        (
            group(stats.GroupField("n", "count", conditions=(Condition("status", "equals", "ERROR"),))),
            "unknown operator 'equals' in 'aggregate[0].group.fields[0].conditions[0].o'; valid operators: "
            f"{', '.join(stats.CONDITION_OPERATORS)}",
        ),
        (
            group(stats.GroupField("n", "count", conditions=(NUMBER_OPERATOR,))),
            "unknown operator '7' in 'aggregate[0].group.fields[0].conditions[0].o'; valid operators: "
            f"{', '.join(stats.CONDITION_OPERATORS)}",
        ),
    ],
)
def test_statistics_operators_name_the_closest_or_list_them(stage: stats.AggregateStage, expected: str) -> None:
    with pytest.raises(QueryError) as caught:
        stats.compile_statistics(stats.StatsSpec(aggregate=(stage,)), STATS_LIMITS)
    assert message_of(caught) == expected


def test_a_later_stage_suggests_the_closest_name_an_earlier_stage_gave() -> None:
    stages = (group(stats.GroupField("total", "count")), stats.Sort((SortKey("totl"),)))
    with pytest.raises(QueryError) as caught:
        stats.compile_statistics(stats.StatsSpec(aggregate=stages), STATS_LIMITS)
    assert message_of(caught) == "unknown field 'totl' in aggregate[1].sort; did you mean 'total'?"


# where JSON breaks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ['{"query": "{ a }",}', '{\n"query":\n  "{ a }" "x"}', "[1, 2", '{"a": tru}'])
def test_a_malformed_graphql_body_names_the_line_column_and_character(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as broken:
        json.loads(text)
    error = broken.value
    where = f"{error.msg} at line {error.lineno}, column {error.colno} (char {error.pos})"
    assert json_mistake(error) == where
    with pytest.raises(RequestRejected) as caught:
        decode_body(text.encode())
    assert (caught.value.status, caught.value.code) == (400, "BAD_REQUEST")
    assert caught.value.message == f"the request body is not valid JSON: {where}"
