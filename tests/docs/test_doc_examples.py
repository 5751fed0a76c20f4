"""Every example of README.md and docs/*.md runs as written against the demo data.

The examples are read from the Markdown itself:

- a ```graphql block is sent to ``/graphql`` as it is: one operation, or several named operations,
  each of which is run;
- a ```sh or ```bash block holding ``curl`` commands to ``localhost:8000`` is sent as curl would
  send it (method, URL, headers and body parsed from the command line);
- a ```json block preceded by ``<!-- expected -->`` is the expected answer of the example before
  it: the answer must contain everything it shows (objects may hold more keys; lists are equal);
- a block preceded by ``<!-- not-run -->`` is not run (keep these few: SDL, error examples).

Each answer must be a success (HTTP 200, no ``errors``) with content: every root field of a
GraphQL answer, and every REST answer, holds at least one value that is not null, empty or zero.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from gateway.app import create_app
from gateway.settings import Settings
from tests.markdown_blocks import DOCUMENTS, GATEWAY, Block, CurlRequest, blocks, curl_requests


@dataclass
class Example:
    block: Block
    expected: list[Any] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.block.name


def is_runnable(block: Block) -> bool:
    if block.marker == "not-run":
        return False
    if block.lang == "graphql":
        return True
    return block.lang in ("sh", "bash") and any(request.url for request in curl_requests(block.text))


def examples() -> list[Example]:
    found: list[Example] = []
    for path in DOCUMENTS:
        for block in blocks(path):
            if block.marker == "expected":
                assert block.lang == "json", f"{path}:{block.line}: an expected answer is a json block"
                assert found and found[-1].block.path == path, f"{path}:{block.line}: no example before it"
                found[-1].expected.append(json.loads(block.text))
            elif is_runnable(block):
                found.append(Example(block))
    return found


EXAMPLES = examples()


@pytest.fixture(scope="module")
async def gateway() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(mongodb_uri=None, auth="none", host="127.0.0.1", demo_seed=2020, demo_jobs=3000))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{GATEWAY}") as client:
        yield client


def test_the_documents_hold_examples_of_every_kind() -> None:
    kinds = {example.block.lang for example in EXAMPLES}
    assert {"graphql", "sh"} <= kinds
    readme = [example for example in EXAMPLES if example.block.path.name == "README.md"]
    assert len(readme) >= 6 and any(example.expected for example in readme)
    not_run = [block for path in DOCUMENTS for block in blocks(path) if block.marker == "not-run"]
    assert len(not_run) <= 8, "keep the examples that are not run few"


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.name for example in EXAMPLES])
async def test_example_runs_as_written(gateway: httpx.AsyncClient, example: Example) -> None:
    if example.block.lang == "graphql":
        answers = [await _run_graphql(gateway, example, name) for name in _operation_names(example)]
    else:
        answers = [await _run_curl(gateway, example, request) for request in curl_requests(example.block.text)]
    if example.expected:
        assert len(example.expected) == len(answers), f"{example.name}: one expected answer per request"
        for expected, answer in zip(example.expected, answers, strict=True):
            assert matches(expected, answer), f"{example.name}: {answer} does not match {expected}"


def _operation_names(example: Example) -> list[str | None]:
    operations = [
        definition
        for definition in parse(example.block.text).definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    if len(operations) == 1:
        return [None]
    names = [operation.name.value if operation.name else None for operation in operations]
    assert None not in names, f"{example.name}: several operations in one block must all be named"
    return list(names)


async def _run_graphql(gateway: httpx.AsyncClient, example: Example, name: str | None) -> Any:
    body: dict[str, Any] = {"query": example.block.text}
    if name:
        body["operationName"] = name
    response = await gateway.post("/graphql", json=body)
    answer = response.json()
    assert response.status_code == 200 and "errors" not in answer, f"{example.name} ({name}): {answer}"
    for root_field, value in answer["data"].items():
        assert has_content(value), f"{example.name}: `{root_field}` is empty on the demo data: {value}"
    return answer


async def _run_curl(gateway: httpx.AsyncClient, example: Example, request: CurlRequest) -> Any:
    url = urlsplit(request.url)
    response = await gateway.request(
        request.method,
        url.path + (f"?{url.query}" if url.query else ""),
        headers=request.headers,
        content=request.body,
    )
    answer = response.json()
    assert response.status_code == 200, f"{example.name}: {response.status_code} {answer}"
    assert "errors" not in answer and "error" not in answer, f"{example.name}: {answer}"
    assert has_content(answer), f"{example.name}: empty on the demo data: {answer}"
    return answer


def has_content(value: Any) -> bool:
    """Whether a value holds anything but nulls, empty containers, zeros and false."""
    if isinstance(value, dict):
        return any(has_content(item) for item in value.values())
    if isinstance(value, list):
        return any(has_content(item) for item in value)
    return bool(value)


def matches(expected: Any, actual: Any) -> bool:
    """``actual`` holds everything ``expected`` shows: objects may hold more keys, lists are equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)


def test_the_example_reader_understands_curl() -> None:
    (request,) = curl_requests(
        "curl -s localhost:8000/x -H 'content-type: application/json' -d \\\n  '{\"a\":\n 1}'"
    )
    assert (request.method, request.url, request.headers, json.loads(request.body or "")) == (
        "POST",
        "http://localhost:8000/x",
        {"content-type": "application/json"},
        {"a": 1},
    )
    (get,) = curl_requests("curl -s 'localhost:8000/y?a=1&b=2'  # a comment")
    assert (get.method, get.url, get.body) == ("GET", "http://localhost:8000/y?a=1&b=2", None)
    assert curl_requests("pip install . && jobs-gateway") == []


def test_the_comparison_is_strict_where_the_document_shows_a_value() -> None:
    assert matches({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2, "c": 3}], "d": 4})
    assert not matches({"a": [1]}, {"a": [1, 2]})
    assert not matches({"a": {"b": 2}}, {"a": {"b": 3}})
    assert not has_content({"results": [], "totalCount": 0}) and has_content([0, None, "x"])
