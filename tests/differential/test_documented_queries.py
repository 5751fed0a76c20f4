"""Every GraphQL query the documentation and the client examples show runs from its compiled
plan the second time it is sent (the ``outcome="compiled"`` counter grows by one), and answers
byte for byte what the app with compiled execution off answers, over the demo data.

Where the queries come from:

- README.md and docs/*.md: ```graphql blocks (each operation of a block with several), and the
  GraphQL requests of ``curl`` commands to ``/graphql`` in shell blocks (POST bodies, batches
  included, and GET ``?query=``); blocks marked ``<!-- not-run -->`` (SDL, error examples) are
  not queries to run;
- examples/: the gql-tagged templates (JavaScript) and gql(triple-quoted) calls (Python);
- examples/javascript/relay: relay-compiler's input (fragment arguments, ``@alias``,
  ``@connection``) is not what Relay sends; the operation texts relay-compiler generates from
  it are (``test_relay_queries_...``, which needs Node.js, like tests/examples).

Left out as well: subscriptions (the operation's type; they are not served over plain HTTP), and
the examples' deliberate mistakes, recognised by the comment "A mistake on purpose" right above
the document; for these the test holds that they are refused and answered identically.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import graphql
import pytest

from gateway.demo import DEMO_DOMAINS, open_demo_database
from gateway.settings import Settings
from tests.differential.apps import AppPair, app_pair
from tests.examples.node_packages import JS_EXAMPLES, compile_relay, ensure_node_packages
from tests.markdown_blocks import DOCUMENTS, ROOT, blocks, curl_requests

EXAMPLES = ROOT / "examples"
_JS_DOCUMENT = re.compile(r"\bgql`(?P<text>[^`]*)`")
_PY_DOCUMENT = re.compile(r'\bgql\(\s*"""(?P<text>.*?)"""\s*\)', re.S)
MISTAKE = "mistake on purpose"
DOMAIN = DEMO_DOMAINS[1]


@dataclass(frozen=True)
class Query:
    where: str
    text: str
    operation_name: str | None
    variables: dict[str, Any] | None = None
    mistake: bool = False

    @property
    def id(self) -> str:
        return f"{self.where}:{self.operation_name or ''}"


def _operations(text: str) -> list[graphql.OperationDefinitionNode]:
    return [d for d in graphql.parse(text).definitions if isinstance(d, graphql.OperationDefinitionNode)]


def _queries_of(
    where: str, text: str, variables: dict[str, Any] | None = None, mistake: bool = False
) -> list[Query]:
    """The query operations of a document (each by name when it holds several)."""
    operations = _operations(text)
    found = []
    for operation in operations:
        if operation.operation is not graphql.OperationType.QUERY:
            continue  # subscriptions: served over WebSocket and SSE
        name = operation.name.value if operation.name and len(operations) > 1 else None
        found.append(Query(where, text, name, variables, mistake))
    return found


def _requests_of(where: str, body: Any) -> list[Query]:
    found = []
    for request in body if isinstance(body, list) else [body]:
        found += [
            Query(where, q.text, request.get("operationName"), request.get("variables"))
            for q in _queries_of(where, request["query"])
        ]
    return found


def documented_queries() -> list[Query]:
    found: list[Query] = []
    for path in DOCUMENTS:
        for block in blocks(path):
            if block.marker == "not-run":
                continue
            if block.lang == "graphql":
                found += _queries_of(block.name, block.text)
            elif block.lang in ("sh", "bash"):
                for request in curl_requests(block.text):
                    url = urlsplit(request.url)
                    if url.path != "/graphql":
                        continue
                    if request.body is not None:
                        found += _requests_of(block.name, json.loads(request.body))
                    else:
                        params = {k: v[0] for k, v in parse_qs(url.query).items()}
                        params["variables"] = json.loads(params.get("variables", "null"))
                        found += _requests_of(block.name, params)
    return found


def example_queries() -> list[Query]:
    found: list[Query] = []
    sources = [
        p for p in sorted(EXAMPLES.rglob("*")) if "node_modules" not in p.parts and "relay" not in p.parts
    ]
    for path in sources:
        if path.suffix not in (".py", ".mjs", ".js"):
            continue
        source = path.read_text()
        pattern = _PY_DOCUMENT if path.suffix == ".py" else _JS_DOCUMENT
        for match in pattern.finditer(source):
            line = source.count("\n", 0, match.start()) + 1
            before = "\n".join(source.splitlines()[max(0, line - 3) : line])
            where = f"{path.relative_to(ROOT)}:{line}"
            if _operations(match["text"]):  # not a lone fragment
                found += _queries_of(where, match["text"], mistake=MISTAKE in before.lower())
    return found


QUERIES = documented_queries() + example_queries()


def test_the_sources_hold_the_queries_they_are_known_to_hold() -> None:
    """The readers find what is there: a reader that finds nothing would pass the test below."""
    assert sum(q.where.startswith("README.md") for q in QUERIES) >= 5
    assert sum(q.where.startswith("docs/") for q in QUERIES) >= 10
    examples = [q for q in QUERIES if q.where.startswith("examples/")]
    assert {Path(q.where.split(":")[0]).name for q in examples} >= {
        "jobs_bff.py",
        "failed-jobs.mjs",
        "apollo-jobs.mjs",
        "batch-http-link.mjs",
        "normalised-caches.mjs",
    }
    assert sum(q.mistake for q in examples) == 4  # MISTAKEN ×3, MALFORMED


@dataclass
class Demo:
    pair: AppPair
    variables: dict[str, Any]


@pytest.fixture(scope="module")
async def demo() -> AsyncIterator[Demo]:
    settings = Settings(mongodb_uri=None, auth="none", host="127.0.0.1", demo_seed=2020, demo_jobs=600)
    async with app_pair(settings, open_demo_database(settings)) as pair:
        ids = await pair.standard.post(
            "/graphql",
            json={
                "query": "query ($d: String) { jobsConnection(domainId: $d, first: 2) { nodes { id } } }",
                "variables": {"d": DOMAIN},
            },
        )
        job_ids = [node["id"] for node in ids.json()["data"]["jobsConnection"]["nodes"]]
        yield Demo(
            pair,
            {
                "domainId": DOMAIN,
                "first": 40,
                "after": None,
                "before": None,
                "status": "ERROR",
                "id": job_ids[0],
                "ids": job_ids,
                "count": 20,
                "cursor": None,
                "filter": None,
            },
        )


def _body(query: Query, known: dict[str, Any]) -> dict[str, Any]:
    """The request: the query with its own variables, or values for the variables it declares
    (the demo domain, a page of 40, ids of demo jobs)."""
    variables = query.variables
    if variables is None:
        operation = next(
            o
            for o in _operations(query.text)
            if query.operation_name is None or o.name.value == query.operation_name
        )
        names = [d.variable.name.value for d in operation.variable_definitions or ()]
        missing = [name for name in names if name not in known]
        assert not missing, f"{query.id}: give the test a value for {missing}"
        variables = {name: known[name] for name in names}
    body: dict[str, Any] = {"query": query.text, "variables": variables}
    if query.operation_name:
        body["operationName"] = query.operation_name
    return body


@pytest.mark.parametrize("query", QUERIES, ids=[q.id for q in QUERIES])
async def test_documented_query_runs_compiled_the_second_time(demo: Demo, query: Query) -> None:
    await check(demo, query)


async def check(demo: Demo, query: Query) -> None:
    exchange = await demo.pair.exchange(_body(query, demo.variables))
    assert exchange.first == exchange.second == exchange.standard
    answer = exchange.standard.json()
    if query.mistake:
        assert answer.get("errors"), answer
        assert exchange.second_outcome != "compiled"
    else:
        assert exchange.standard.status == 200 and "errors" not in answer, answer
        assert exchange.second_outcome == "compiled", query.id


_RELAY_TEXT = re.compile(r'"text": ("(?:[^"\\]|\\.)*")')


def relay_queries(workspace: Path) -> list[Query]:
    """The operations relay-compiler generates from the Relay sources (the ``text`` it sends)."""
    status, output = compile_relay(JS_EXAMPLES, workspace, (ROOT / "schema" / "schema.graphql").read_text())
    assert status == 0, output
    found = []
    for artifact in sorted((workspace / "__generated__").glob("*.graphql.js")):
        if match := _RELAY_TEXT.search(artifact.read_text()):
            found += _queries_of(f"relay:{artifact.name}", json.loads(match[1]))
    return found


async def test_relay_queries_run_compiled_the_second_time(demo: Demo, tmp_path: Path) -> None:
    ensure_node_packages()  # skips without Node.js
    queries = relay_queries(tmp_path)
    assert {q.where.removeprefix("relay:").removesuffix(".graphql.js") for q in queries} == {
        "JobDetailsQuery",
        "JobDetailsBatchQuery",
        "JobDetailsFailedBackwardsQuery",
        "JobRowRefetchQuery",
        "JobsListQuery",
        "JobsListPaginationQuery",
    }
    for query in queries:
        await check(demo, query)
