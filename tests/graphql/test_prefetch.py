"""Loading ``errors``/``controllerInfo`` for a whole page up front (schema/prefetch.py) changes
nothing a client or the database can see.

Every query of a corpus runs through the gateway schema with the prefetch and through the same
schema built without it, over the same documents: data and errors (messages, paths, locations,
extensions, original exceptions) must be identical, and so must the batched reads sent to the
repository (which loader method, which ids, which error parts, in which order). The corpus covers
aliases with different error parts, fragments, ``@skip``/``@include``, connections whose nodes and
edges share jobs, deleted controllers, controllers of another domain and failing loaders.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import pytest
from bson import ObjectId

import schema.extensions.errors
from gateway.auth import ANONYMOUS
from gateway.context import GatewayContext
from gateway.errors import ServiceUnavailable
from gateway.mongo.repository import JobRepository
from gateway.settings import Settings
from schema import build_schema
from schema.types.job import Job
from tests import factories
from tests.conftest import DOMAIN, OTHER_DOMAIN, seed

PREFETCH = build_schema()
PER_JOB = build_schema(prefetch_nested=False)

JOBS, CONTROLLERS = factories.dataset(29, (DOMAIN, OTHER_DOMAIN), 30)
FOREIGN_CONTROLLER = next(c["_id"] for c in CONTROLLERS if c["domain_id"] == OTHER_DOMAIN)
EXTRA = [
    factories.job(
        DOMAIN,
        job_id="job-foreign-controller",
        controller=FOREIGN_CONTROLLER,
        errors=[factories.error("E_DENIED", "not yours", attempt=1)],
        status="ERROR",
    ),
    factories.job(
        DOMAIN,
        job_id="job-gone-controller",
        controller=ObjectId(),
        status="ERROR",
        errors=[
            factories.error("E_BUSY", "busy", attempt=2),
            factories.error("E_NOT_FOUND", "gone", attempt=3),
        ],
    ),
    factories.job(DOMAIN, job_id="job-controller-text", controller="controller-not-an-id"),
]
ERROR_JOB = next(j for j in JOBS if j["domain_id"] == DOMAIN and j["errors"])

ERRORS = "errors { errorCode message additional }"
CONTROLLER = """controllerInfo { controllerId name provider capability tags createdAt domainId
  pluginInfo { pluginId version options provider metadata } }"""

CORPUS: dict[str, tuple[str, dict[str, Any]]] = {
    "jobs, every nested field": (
        """
        query ($d: String) { jobs(domainId: $d, query: {page: {limit: 200}}) { totalCount
          results { jobId status %s %s } } }"""
        % (ERRORS, CONTROLLER),
        {"d": DOMAIN},
    ),
    "controller before errors": (
        """
        query ($d: String) { jobs(domainId: $d) { results { controllerInfo { name }
          errors { errorCode } } } }""",
        {"d": DOMAIN},
    ),
    "only errors": (
        """
        query ($d: String) { jobs(domainId: $d, status: ERROR) { results { jobId errors { message } } } }""",
        {"d": DOMAIN},
    ),
    "only controllers, other domain": (
        """
        query ($d: String) { jobs(domainId: $d) { results { jobId controllerInfo { controllerId domainId } } } }""",
        {"d": OTHER_DOMAIN},
    ),
    "aliases with different error parts": (
        """
        query ($d: String) { jobs(domainId: $d) { results { jobId
          codes: errors { errorCode } texts: errors { message additional }
          all: errors { __typename errorCode message additional } errors { errorCode }
          c: controllerInfo { name } controllerInfo { provider } } } }""",
        {"d": DOMAIN},
    ),
    "one response name, different sub-selections": (
        """
        query ($d: String) { jobs(domainId: $d) { results {
          errors { errorCode } errors { message } } } }""",
        {"d": DOMAIN},
    ),
    "aliased results": (
        """
        query ($d: String) { jobs(domainId: $d) {
          a: results { errors { errorCode } }
          b: results { errors { message } controllerInfo { name } } } }""",
        {"d": DOMAIN},
    ),
    "fragments": (
        """
        fragment Nested on Job { errors { ...Err } ... on Job { controllerInfo { ...Ctl } } }
        fragment Err on ErrorInfo { errorCode ... on ErrorInfo { message } }
        fragment Ctl on ControllerInfo { controllerId pluginInfo { pluginId } }
        query ($d: String) { jobs(domainId: $d) { results { jobId ...Nested
          ... { more: errors { additional } } } } }""",
        {"d": DOMAIN},
    ),
    "skip and include": (
        """
        query ($d: String, $yes: Boolean!, $no: Boolean!) { jobs(domainId: $d) { results {
          errors @skip(if: $yes) { errorCode } errors { message @include(if: $no) additional }
          controllerInfo @include(if: $no) { name }
          ... on Job @skip(if: $yes) { x: errors { errorCode } }
          ...Extra @include(if: $yes) } } }
        fragment Extra on Job { y: errors { message } c: controllerInfo @skip(if: $no) { name } }""",
        {"d": DOMAIN, "yes": True, "no": False},
    ),
    "everything skipped": (
        """
        query ($d: String, $yes: Boolean!) { jobs(domainId: $d) { results { jobId
          errors @skip(if: $yes) { errorCode } controllerInfo @skip(if: $yes) { name } } } }""",
        {"d": DOMAIN, "yes": True},
    ),
    "no results selected": (
        """
        query ($d: String) { jobs(domainId: $d) { totalCount } }""",
        {"d": DOMAIN},
    ),
    "empty page": (
        """
        query ($d: String) { jobs(domainId: $d, jobId: "job-none") { results { %s %s } } }"""
        % (ERRORS, CONTROLLER),
        {"d": DOMAIN},
    ),
    "connection: nodes and edges share jobs": (
        """
        query ($d: String) { jobsConnection(domainId: $d, first: 40) {
          nodes { jobId errors { errorCode } controllerInfo { name } }
          edges { cursor node { errors { message } controllerInfo { controllerId } } } } }""",
        {"d": DOMAIN},
    ),
    "connection: edges only, aliased node": (
        """
        query ($d: String) { jobsConnection(domainId: $d, last: 15,
            filter: {status: {in: [ERROR, TIMEOUT]}}) {
          edges { n: node { %s } node { jobId } } pageInfo { hasPreviousPage } } }"""
        % ERRORS,
        {"d": DOMAIN},
    ),
    "one job": (
        """
        query ($d: String, $id: ID!) { job(domainId: $d, jobId: $id) { jobId %s %s
          again: errors { errorCode } } }"""
        % (ERRORS, CONTROLLER),
        {"d": DOMAIN, "id": ERROR_JOB["job_id"]},
    ),
    "odd controllers, one at a time": (
        """
        query ($d: String) {
          a: job(domainId: $d, jobId: "job-foreign-controller") { %s %s }
          b: job(domainId: $d, jobId: "job-gone-controller") { %s %s }
          c: job(domainId: $d, jobId: "job-controller-text") { %s %s }
          d: job(domainId: $d, jobId: "job-none") { %s } }"""
        % ((ERRORS, CONTROLLER) * 3 + (ERRORS,)),
        {"d": DOMAIN},
    ),
    "several root fields share the loaders": (
        """
        query ($d: String, $id: ID!) {
          jobs(domainId: $d, query: {page: {limit: 12}}) { results { errors { errorCode } controllerInfo { name } } }
          job(domainId: $d, jobId: $id) { errors { message } controllerInfo { name } }
          jobsConnection(domainId: $d, first: 7) { nodes { errors { errorCode } } }
          other: jobs(domainId: "%s") { results { controllerInfo { domainId } } } }"""
        % OTHER_DOMAIN,
        {"d": DOMAIN, "id": ERROR_JOB["job_id"]},
    ),
}


class Outcome:
    """Data and errors as a client sees them, each error's original exception, and the reads
    the loaders sent to the repository."""

    def __init__(self, result: Any, reads: list[tuple[Any, ...]]) -> None:
        self.data = result.data
        self.errors = [error.formatted for error in result.errors or ()]
        self.originals = [
            (type(error.original_error).__name__, str(error.original_error)) for error in result.errors or ()
        ]
        self.reads = reads


Failure = Callable[[str, frozenset[str]], Exception | None]
"""Which repository reads fail: told the method and the error parts (empty for controllers)."""


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Records every batched read of the loaders in order: method, domain, the ids (as a set:
    their order in ``$in`` follows task scheduling per job, and the page order with the
    prefetch) and the error parts."""
    recorded: list[tuple[Any, ...]] = []
    errors_by_job = JobRepository.errors_by_job
    controllers_by_id = JobRepository.controllers_by_id

    async def recorded_errors(self: JobRepository, ids: Sequence[ObjectId], parts: Collection[str] = ()) -> Any:
        recorded.append(("errors", self.domain_id, sorted(ids), sorted(parts)))
        if (error := FAILURE.get("now", _never)("errors", frozenset(parts))) is not None:
            raise error
        return await errors_by_job(self, ids, parts)

    async def recorded_controllers(self: JobRepository, ids: Sequence[ObjectId]) -> Any:
        recorded.append(("controllers", self.domain_id, sorted(ids)))
        if (error := FAILURE.get("now", _never)("controllers", frozenset())) is not None:
            raise error
        return await controllers_by_id(self, ids)

    monkeypatch.setattr(JobRepository, "errors_by_job", recorded_errors)
    monkeypatch.setattr(JobRepository, "controllers_by_id", recorded_controllers)
    return recorded


def _never(method: str, parts: frozenset[str]) -> None:
    return None


FAILURE: dict[str, Failure] = {}


async def _run(
    gateway_schema: Any,
    database: Any,
    settings: Settings,
    reads: list[tuple[Any, ...]],
    query: str,
    variables: dict[str, Any],
) -> Outcome:
    reads.clear()
    context = GatewayContext(settings=settings, database=database, principal=ANONYMOUS)
    result = await gateway_schema.execute(query, variable_values=variables, context_value=context)
    return Outcome(result, list(reads))


async def _both(
    database: Any,
    settings: Settings,
    reads: list[tuple[Any, ...]],
    name: str,
) -> tuple[Outcome, Outcome]:
    query, variables = CORPUS[name]
    per_job = await _run(PER_JOB, database, settings, reads, query, variables)
    prefetched = await _run(PREFETCH, database, settings, reads, query, variables)
    return per_job, prefetched


@pytest.fixture
async def database(mock_db: Any) -> Any:
    await seed(mock_db, [*JOBS, *EXTRA], CONTROLLERS)
    return mock_db


@pytest.fixture
def failing() -> Any:
    def set_failure(failure: Failure) -> None:
        FAILURE["now"] = failure

    yield set_failure
    FAILURE.clear()


@pytest.fixture
def unmasked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Errors as graphql-core reports them, before ``ErrorCodes`` masks unexpected ones."""
    monkeypatch.setattr(schema.extensions.errors, "classify", lambda error, request_id: error)


SEVERAL_ROOTS = {"odd controllers, one at a time", "several root fields share the loaders"}
"""Root fields resolve concurrently: the order in which their batches run, and so the order of
their entries in ``errors``, follows task scheduling (with a real driver, which query returns
first). For these the reads and the errors are compared as multisets; each entry stays exact."""


def _assert_same(per_job: Outcome, prefetched: Outcome, name: str) -> None:
    assert prefetched.data == per_job.data
    if name in SEVERAL_ROOTS:
        assert sorted(map(repr, prefetched.errors)) == sorted(map(repr, per_job.errors))
        assert sorted(prefetched.originals) == sorted(per_job.originals)
        assert sorted(map(repr, prefetched.reads)) == sorted(map(repr, per_job.reads))
    else:
        assert prefetched.errors == per_job.errors
        assert prefetched.originals == per_job.originals
        assert prefetched.reads == per_job.reads


@pytest.mark.parametrize("name", list(CORPUS))
async def test_prefetch_answers_and_reads_exactly_as_per_job_loading(
    name: str, database: Any, settings: Settings, reads: list[tuple[Any, ...]]
) -> None:
    per_job, prefetched = await _both(database, settings, reads, name)
    _assert_same(per_job, prefetched, name)


FAILURES: dict[str, Failure] = {
    "controllers unavailable": lambda method, parts: (
        ServiceUnavailable("controllers unavailable") if method == "controllers" else None
    ),
    "errors unavailable": lambda method, parts: (
        ServiceUnavailable("errors unavailable") if method == "errors" else None
    ),
    "every read fails unexpectedly": lambda method, parts: RuntimeError(f"boom in {method}"),
    "only the reads of messages fail": lambda method, parts: (
        ServiceUnavailable("messages unavailable") if "message" in parts else None
    ),
}


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("name", list(CORPUS))
async def test_loader_failures_surface_at_the_same_paths_with_the_same_codes(
    name: str,
    failure: str,
    database: Any,
    settings: Settings,
    reads: list[tuple[Any, ...]],
    failing: Any,
) -> None:
    failing(FAILURES[failure])
    per_job, prefetched = await _both(database, settings, reads, name)
    _assert_same(per_job, prefetched, name)


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_loader_failures_unmasked_are_the_same_exceptions(
    failure: str,
    database: Any,
    settings: Settings,
    reads: list[tuple[Any, ...]],
    failing: Any,
    unmasked: None,
) -> None:
    failing(FAILURES[failure])
    for name in (
        "jobs, every nested field",
        "aliases with different error parts",
        "odd controllers, one at a time",
    ):
        per_job, prefetched = await _both(database, settings, reads, name)
        _assert_same(per_job, prefetched, name)


async def test_the_corpus_reaches_what_it_is_meant_to(
    database: Any, settings: Settings, reads: list[tuple[Any, ...]], failing: Any
) -> None:
    """Guards the corpus itself, from the documents: several parts sets in one request, deleted
    and foreign controllers as null, and an outage reported as SERVICE_UNAVAILABLE."""
    per_job, _ = await _both(database, settings, reads, "aliases with different error parts")
    parts_read = {tuple(read[3]) for read in per_job.reads if read[0] == "errors"}
    assert parts_read == {("error_code",), ("additional", "message"), ("additional", "error_code", "message")}
    odd, _ = await _both(database, settings, reads, "odd controllers, one at a time")
    assert odd.data["a"]["controllerInfo"] is None and odd.data["b"]["controllerInfo"] is None
    assert odd.data["b"]["errors"] == [
        {"errorCode": "E_BUSY", "message": "busy", "additional": {"attempt": 2}},
        {"errorCode": "E_NOT_FOUND", "message": "gone", "additional": {"attempt": 3}},
    ]
    assert odd.data["d"] is None
    failing(FAILURES["controllers unavailable"])
    outage, _ = await _both(database, settings, reads, "jobs, every nested field")
    with_controller = [
        d for d in [*JOBS, *EXTRA] if d["domain_id"] == DOMAIN and isinstance(d["controller"], ObjectId)
    ]
    codes = [error["extensions"]["code"] for error in outage.errors]
    assert codes == ["SERVICE_UNAVAILABLE"] * len(with_controller)
    assert all(error["path"][-1] == "controllerInfo" for error in outage.errors)


async def test_prefetched_fields_resolve_without_awaiting(
    database: Any, settings: Settings, reads: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the prefetch, no job loads through its own loader call."""
    calls: list[str] = []
    load_errors, load_controller = Job._load_errors, Job._load_controller

    def counting_errors(self: Job, parts: frozenset[str]) -> Any:
        calls.append("errors")
        return load_errors(self, parts)

    def counting_controller(self: Job) -> Any:
        calls.append("controller")
        return load_controller(self)

    monkeypatch.setattr(Job, "_load_errors", counting_errors)
    monkeypatch.setattr(Job, "_load_controller", counting_controller)
    query, variables = CORPUS["jobs, every nested field"]
    await _run(PREFETCH, database, settings, reads, query, variables)
    assert calls == []
    await _run(PER_JOB, database, settings, reads, query, variables)
    assert calls.count("errors") == len([d for d in [*JOBS, *EXTRA] if d["domain_id"] == DOMAIN])


@pytest.mark.parametrize("name", ["skip and include", "everything skipped"])
async def test_selection_decisions_follow_the_directive_values_of_each_request(
    name: str, database: Any, settings: Settings, reads: list[tuple[Any, ...]]
) -> None:
    """The prefetch's selection analysis is worked out once per document and variable values:
    the same document with the directive values flipped, again and again, reads exactly what
    per-job loading reads for those values (the cached analysis of the other values must not
    leak into it)."""
    query, given = CORPUS[name]
    outcomes = {}
    for yes, no in [(True, False), (False, True), (True, False), (False, False), (False, True)]:
        variables = {**given, "yes": yes, "no": no}
        per_job = await _run(PER_JOB, database, settings, reads, query, variables)
        prefetched = await _run(PREFETCH, database, settings, reads, query, variables)
        _assert_same(per_job, prefetched, name)
        outcomes[(yes, no)] = prefetched.reads
    assert len({repr(reads) for reads in outcomes.values()}) > 1  # the values change what is read
