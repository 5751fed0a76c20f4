"""The leaf-field fast path (schema/execution.py) changes nothing a client can see.

Every query of a broad corpus runs through the gateway schema with the fast path and through the
same schema executed the standard way, over the same documents; data and errors (messages,
paths, locations, extensions) must be identical. Documents and ``Job`` objects are bent to
produce every unusual outcome: nulls in non-null positions, values the scalar cannot represent,
exception instances, awaitables, missing attributes, unknown statuses and failing loaders.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import strawberry
from bson import ObjectId
from graphql import GraphQLEnumType
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext as Executor

import schema.extensions.errors
from gateway.auth import ANONYMOUS
from gateway.context import GatewayContext
from gateway.errors import GatewayError
from gateway.mongo.repository import JobRepository
from gateway.settings import Settings
from schema import build_schema
from schema.build import Query
from schema.execution.executor import LeafFastPathExecutor, enum_output, leaf_field
from schema.types.job import Job
from schema.types.scalars import SCALAR_MAP
from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, seed

FAST = build_schema()
STANDARD = build_schema(leaf_fast_path=False)

JOBS, CONTROLLERS = factories.dataset(11, (DOMAIN, OTHER_DOMAIN), 25)
ODD_TIME = factories.BASE_TIME + timedelta(days=400)  # sorts the odd jobs first (newest)
ODD = [
    factories.job(DOMAIN, job_id="job-odd-status", status="BOGUS", created_at=ODD_TIME),
    factories.job(
        DOMAIN,
        job_id="job-odd-nulls",
        schedule_id=None,
        project_id=None,
        filters=None,
        created_at=None,
        updated_at=None,
    ),
    factories.job(
        DOMAIN,
        job_id="job-odd-json",
        created_at=ODD_TIME - timedelta(minutes=1),
        filters={
            "ids": [ObjectId("5f1e5c0b8e3b4a0b9c1d2e3f")],
            "when": datetime(2026, 1, 2),
            "nested": {"list": [1, 2.5, None, True, "x"]},
        },
    ),
    factories.job(
        DOMAIN,
        job_id="job-odd-types",
        created_at=ODD_TIME - timedelta(minutes=2),
        schedule_id=12345,
        project_id=True,
    ),
    factories.job(
        DOMAIN,
        job_id="job-odd-schedule-object",
        schedule_id={"a": 1},
        created_at=ODD_TIME - timedelta(minutes=3),
    ),
    factories.job(
        DOMAIN, job_id="job-odd-date-text", updated_at="yesterday", created_at=ODD_TIME - timedelta(minutes=4)
    ),
    factories.job(DOMAIN, job_id="job-odd-huge", total_tasks=2**40, created_at=ODD_TIME - timedelta(minutes=5)),
]

FIELDS = """
  jobId status filter totalTasks remainedTasks scheduleId projectId domainId
  createdAt updatedAt finishedAt
"""

CORPUS: dict[str, tuple[str, dict[str, Any]]] = {
    "every field, nested": (
        """
        query ($d: String) { jobs(domainId: $d, query: {page: {limit: 40}}) {
          totalCount __typename
          results { __typename %s
            errors { __typename errorCode message additional }
            controllerInfo { __typename controllerId name provider capability tags createdAt
              domainId pluginInfo { __typename pluginId version options provider metadata } }
          } } }"""
        % FIELDS,
        {"d": DOMAIN},
    ),
    "aliases and repeated fields": (
        """
        query ($d: String) { jobs(domainId: $d) { n: totalCount results {
          id: jobId jobId again: jobId s: status status when: createdAt createdAt
          t: totalTasks r: remainedTasks f: filter } } }""",
        {"d": DOMAIN},
    ),
    "fragments and inline fragments": (
        """
        fragment Ids on Job { jobId domainId ...Dates }
        fragment Dates on Job { createdAt updatedAt finishedAt }
        query ($d: String) { jobs(domainId: $d) { results {
          ...Ids
          ... on Job { status jobId totalTasks }
          ... { projectId scheduleId filter }
          errors { ... on ErrorInfo { errorCode } message }
        } } }""",
        {"d": DOMAIN},
    ),
    "include and skip, true": (
        """
        query ($d: String, $yes: Boolean!, $no: Boolean!) { jobs(domainId: $d) { results {
          jobId @include(if: $yes) status @skip(if: $no) createdAt @include(if: $no)
          finishedAt @skip(if: $yes) ... on Job @include(if: $yes) { projectId }
          ...Extra @skip(if: $no) } } }
        fragment Extra on Job { remainedTasks scheduleId @include(if: $yes) }""",
        {"d": DOMAIN, "yes": True, "no": False},
    ),
    "include and skip, false": (
        """
        query ($d: String, $yes: Boolean!, $no: Boolean!) { jobs(domainId: $d) { results {
          jobId @include(if: $yes) status @skip(if: $no) createdAt @include(if: $no)
          finishedAt @skip(if: $yes) } } }""",
        {"d": DOMAIN, "yes": False, "no": True},
    ),
    "an awaitable attribute": (
        """
        query ($d: String, $id: ID!) { job(domainId: $d, jobId: $id) { projectId filter } }""",
        {"d": DOMAIN, "id": JOBS[5]["job_id"]},
    ),
    "one job by id": (
        """
        query ($d: String, $id: ID!) { job(domainId: $d, jobId: $id) { __typename %s
          errors { errorCode message } controllerInfo { controllerId createdAt } } }"""
        % FIELDS,
        {"d": DOMAIN, "id": JOBS[3]["job_id"]},
    ),
    "unknown job": ("""query ($d: String) { job(domainId: $d, jobId: "job-none") { jobId } }""", {"d": DOMAIN}),
    "odd stored values, one at a time": (
        """
        query ($d: String) { a: job(domainId: $d, jobId: "job-odd-status") { %s }
          b: job(domainId: $d, jobId: "job-odd-nulls") { %s }
          c: job(domainId: $d, jobId: "job-odd-json") { %s }
          d: job(domainId: $d, jobId: "job-odd-types") { %s }
          e: job(domainId: $d, jobId: "job-odd-schedule-object") { %s }
          f: job(domainId: $d, jobId: "job-odd-date-text") { %s }
          g: job(domainId: $d, jobId: "job-odd-huge") { %s } }"""
        % ((FIELDS,) * 7),
        {"d": DOMAIN},
    ),
    "odd values in a nullable list position": (
        """
        query ($d: String) { jobsConnection(domainId: $d, first: 10) {
          edges { cursor node { %s } } pageInfo { hasNextPage endCursor } } }"""
        % FIELDS,
        {"d": DOMAIN},
    ),
    "odd values propagating to the root": (
        """
        query ($d: String) { jobs(domainId: $d, query: {page: {limit: 10}}) {
          results { %s } } }"""
        % FIELDS,
        {"d": DOMAIN},
    ),
    "status filter and enums": (
        """
        query ($d: String) { jobs(domainId: $d, status: ERROR) { totalCount
          results { status jobId errors { errorCode additional } } } }""",
        {"d": DOMAIN},
    ),
    "connection nodes and page info": (
        """
        query ($d: String) { jobsConnection(domainId: $d, first: 5,
            filter: {status: {in: [SUCCESS, ERROR]}}, orderBy: [{field: STATUS}]) {
          totalCount nodes { jobId status finishedAt }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
        {"d": DOMAIN},
    ),
    "summary and timeline": (
        """
        query ($d: String) { jobSummary(domainId: $d) { totalCount totalTasks remainedTasks
            jobsWithErrors successRate averageDurationSeconds byStatus { status count } }
          jobTimeline(domainId: $d, interval: DAY) { start count byStatus { status count } } }""",
        {"d": DOMAIN},
    ),
    "statistics": (
        """
        query ($d: String) { jobStats(domainId: $d, query: {distinct: "status"}) {
          results totalCount __typename } }""",
        {"d": DOMAIN},
    ),
    "bad input": ("""query { jobs(domainId: "x", query: {page: {limit: -1}}) { totalCount } }""", {}),
    "introspection": (
        """{ __typename __type(name: "Job") { name fields { name type { kind
          name ofType { name kind } } } } }""",
        {},
    ),
}


def _odd(job_id: str) -> ObjectId:
    return next(d["_id"] for d in ODD if d["job_id"] == job_id)


BENT: dict[ObjectId, Callable[[Job], None]] = {
    # Objects that no stored document produces, keyed by ``_id`` (jobId may not be projected).
    _odd("job-odd-status"): lambda j: setattr(j, "status", "BOGUS"),  # not a JobStatus member
    _odd("job-odd-nulls"): lambda j: setattr(j, "domain_id", None),  # null in a non-null position
    _odd("job-odd-types"): lambda j: setattr(j, "schedule_id", ValueError("stored failure")),
    _odd("job-odd-date-text"): lambda j: setattr(j, "filter", ValueError("JSON as an exception")),
    _odd("job-odd-json"): lambda j: object.__delattr__(j, "project_id"),
}


def _later(value: Any) -> asyncio.Future[Any]:
    """An awaitable attribute value (a future: left unawaited, it raises no warning)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


@pytest.fixture
def bent_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Job.from_document.__func__  # type: ignore[attr-defined]

    def from_document(cls: type[Job], document: dict[str, Any], loaders: Any, **kwargs: Any) -> Job:
        job = original(cls, document, loaders, **kwargs)
        BENT.get(job.object_id, lambda _: None)(job)
        if job.object_id == JOBS[5]["_id"]:
            job.project_id = _later("project-later")  # type: ignore[assignment]
            job.filter = _later({"later": True})  # type: ignore[assignment]
        if document.get("status") == "SUCCESS":
            job.status = "SUCCESS"  # type: ignore[assignment]  # the stored text, not the member
        return job

    monkeypatch.setattr(Job, "from_document", classmethod(from_document))


class Outcome:
    """Data and errors as a client sees them, plus each error's original exception."""

    def __init__(self, result: Any) -> None:
        self.data = result.data
        self.errors = [error.formatted for error in result.errors or ()]
        self.originals = [
            (type(error.original_error).__name__, str(error.original_error)) for error in result.errors or ()
        ]


async def _run(
    schema: Any, database: Any, settings: Settings, query: str, variables: dict[str, Any]
) -> Outcome:
    context = GatewayContext(settings=settings, database=database, principal=ANONYMOUS)
    return Outcome(await schema.execute(query, variable_values=variables, context_value=context))


@pytest.fixture
async def database(mock_db: Any) -> Any:
    await seed(mock_db, [*JOBS, *ODD], CONTROLLERS)
    return mock_db


@pytest.fixture
def unmasked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Errors as graphql-core reports them, before ``ErrorCodes`` masks unexpected ones."""
    monkeypatch.setattr(schema.extensions.errors, "classify", lambda error, request_id: error)


@pytest.mark.parametrize("name", list(CORPUS))
async def test_fast_path_answers_exactly_as_the_standard_execution(
    name: str, database: Any, settings: Settings, bent_jobs: None
) -> None:
    query, variables = CORPUS[name]
    standard = await _run(STANDARD, database, settings, query, variables)
    fast = await _run(FAST, database, settings, query, variables)
    assert fast.errors == standard.errors
    assert fast.data == standard.data


@pytest.mark.parametrize("name", list(CORPUS))
async def test_fast_path_raises_exactly_the_standard_errors(
    name: str, database: Any, settings: Settings, bent_jobs: None, unmasked: None
) -> None:
    query, variables = CORPUS[name]
    standard = await _run(STANDARD, database, settings, query, variables)
    fast = await _run(FAST, database, settings, query, variables)
    assert fast.errors == standard.errors
    assert fast.originals == standard.originals
    assert fast.data == standard.data


async def test_the_corpus_reaches_the_unusual_outcomes(
    database: Any, settings: Settings, bent_jobs: None, unmasked: None
) -> None:
    """Guards the corpus itself: the standard execution meets each kind of failure."""
    one_at_a_time = await _run(STANDARD, database, settings, *CORPUS["odd stored values, one at a time"])
    to_root = await _run(STANDARD, database, settings, *CORPUS["odd values propagating to the root"])
    messages = {tuple(e["path"]): e["message"] for e in one_at_a_time.errors}
    assert messages[("b", "domainId")] == "Cannot return null for non-nullable field Job.domainId."
    assert messages[("a", "status")] == "Enum 'JobStatus' cannot represent value: 'BOGUS'"
    assert set(messages) == {
        ("a", "status"),
        ("b", "domainId"),
        ("c", "projectId"),
        ("d", "scheduleId"),
        ("e", "scheduleId"),
        ("f", "filter"),
        ("f", "updatedAt"),
        ("g", "totalTasks"),
    }
    assert messages[("f", "filter")] == "JSON as an exception"
    assert [k for k, v in one_at_a_time.data.items() if v is None] == ["a", "b", "g"]
    assert one_at_a_time.data["d"]["projectId"] == "true"  # coerced, not an error
    assert one_at_a_time.data["c"]["filter"]["ids"] == ["5f1e5c0b8e3b4a0b9c1d2e3f"]
    assert to_root.data is None and to_root.errors


@pytest.mark.parametrize("failure", [GatewayError("controllers unavailable"), RuntimeError("boom")])
async def test_loader_failures_are_reported_identically(
    failure: Exception, database: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(self: JobRepository, ids: Any) -> Any:
        raise failure

    monkeypatch.setattr(JobRepository, "controllers_by_id", failing)
    query, variables = CORPUS["every field, nested"]
    standard = await _run(STANDARD, database, settings, query, variables)
    fast = await _run(FAST, database, settings, query, variables)
    assert standard.errors and fast.errors == standard.errors
    assert fast.data == standard.data


def _count_resolve_infos(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    original = Executor.build_resolve_info

    def counting(self: Executor, field_def: Any, nodes: Any, parent: Any, path: Any) -> Any:
        built.append(f"{parent.name}.{nodes[0].name.value}")
        return original(self, field_def, nodes, parent, path)

    monkeypatch.setattr(Executor, "build_resolve_info", counting)
    return built


async def test_plain_leaves_skip_the_per_field_machinery(
    database: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = _count_resolve_infos(monkeypatch)
    query = "query ($d: String) { jobs(domainId: $d) { totalCount results { %s } } }" % FIELDS
    await _run(FAST, database, settings, query, {"d": OTHER_DOMAIN})  # no odd documents there
    assert built == ["Query.jobs", "JobsInfo.results"]  # only the two non-leaf fields
    built.clear()
    outcome = await _run(STANDARD, database, settings, query, {"d": OTHER_DOMAIN})
    pages = len(outcome.data["jobs"]["results"])
    assert len(built) == 3 + 11 * pages


class CountingMiddleware(SchemaExtension):
    """A schema extension with a ``resolve`` hook: Strawberry runs it as field middleware."""

    seen: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        CountingMiddleware.seen.append(f"{info.parent_type.name}.{info.field_name}")
        return _next(root, info, *args, **kwargs)


@pytest.fixture
def counted() -> Iterator[list[str]]:
    CountingMiddleware.seen = []
    yield CountingMiddleware.seen


async def test_middleware_turns_the_fast_path_off(
    database: Any, settings: Settings, counted: list[str]
) -> None:
    with_middleware = strawberry.Schema(
        query=Query,
        extensions=[CountingMiddleware],
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        execution_context_class=LeafFastPathExecutor,
    )
    query = "query ($d: String) { jobs(domainId: $d) { totalCount results { jobId status } } }"
    outcome = await _run(with_middleware, database, settings, query, {"d": DOMAIN})
    pages = len(outcome.data["jobs"]["results"])
    assert pages > 0
    assert counted.count("Job.jobId") == pages and counted.count("Job.status") == pages
    assert counted.count("JobsInfo.totalCount") == 1


class Deny(BasePermission):
    message = "denied"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type(description="t")
class Sample:
    plain: int = strawberry.field(description="d")
    guarded: int = strawberry.field(description="d", permission_classes=[Deny])
    listed: list[int] = strawberry.field(description="d")

    @strawberry.field(description="d")
    def computed(self) -> int:
        return 1


@strawberry.type(description="q")
class SampleQuery:
    @strawberry.field(description="d")
    def sample(self) -> Sample:
        return Sample(plain=1, guarded=2, listed=[3])


def test_only_plain_leaf_attributes_take_the_fast_path() -> None:
    schema = strawberry.Schema(query=SampleQuery, execution_context_class=LeafFastPathExecutor)
    fields = schema._schema.type_map["Sample"].fields  # type: ignore[union-attr]
    plans = {name: leaf_field(field) for name, field in fields.items()}
    assert plans["plain"] is not None and plans["plain"].attribute == "plain"
    assert {name for name, plan in plans.items() if plan is None} == {"guarded", "listed", "computed"}
    result = schema.execute_sync("{ sample { plain guarded computed listed } }")
    assert result.data is None  # Sample! is non-null, so the denial nulls the whole response
    assert [e.message for e in result.errors or ()] == ["denied"]


def test_enum_output_matches_the_enum_types_own_coercion() -> None:
    for enum_type in (FAST._schema.get_type(n) for n in ("JobStatus", "FilterOperator")):
        assert isinstance(enum_type, GraphQLEnumType)
        coerce = enum_output(enum_type)
        members = list(enum_type.wrapped_cls)  # type: ignore[attr-defined]
        assert [coerce(m) for m in members] == [enum_type.coerce_output_value(m) for m in members]
        for value in (members[0].value, "BOGUS", 3, None):
            try:
                expected: Any = enum_type.coerce_output_value(value)
            except Exception as error:  # noqa: BLE001
                expected = repr(error)
            try:
                actual: Any = coerce(value)
            except Exception as error:  # noqa: BLE001
                actual = repr(error)
            assert actual == expected
