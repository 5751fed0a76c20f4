"""``python -m bench.hostile``: what the worst documents cost before execution.

Each document is sent to the gateway app in process (over ASGI, an empty database behind it) and
timed from the request to the answer; every one of them is refused before execution, so the time
is the HTTP handling, parsing, the document bounds and validation. The gateway caches its work
per document text, so each request carries a different trailing comment: every figure is an
uncached one, what a client varying its document costs. Printed: the median and the worst of
``--rounds`` requests per document, and the answer's code.

    python -m bench.hostile                 # every document at full size
    python -m bench.hostile --depth 14      # doubling chains of 14 levels (for slower code)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Iterator

from mongomock_motor import AsyncMongoMockClient

from bench import asgi
from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings

DOMAIN = "domain-bench"
LISTS = ("fields", "interfaces", "possibleTypes", "inputFields")


def doubling_chain(depth: int, on: str, leaf: str) -> str:
    """Fragments ``F{i}`` spreading ``F{i-1}`` twice: ``2**depth`` copies of ``leaf``, in a
    document of a few hundred bytes."""
    parts = [f"fragment F0 on {on} {{ {leaf} }}"]
    parts += [f"fragment F{i} on {on} {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, depth + 1)]
    return " ".join(parts)


def query_chain(depth: int) -> str:
    return "query { ...F%d } %s" % (depth, doubling_chain(depth, "Query", "__typename"))


def job_chain(depth: int) -> str:
    return 'query { jobs(domainId: "%s") { results { ...F%d } } } %s' % (
        DOMAIN,
        depth,
        doubling_chain(depth, "Job", "jobId status errors { errorCode }"),
    )


def nested_introspection(levels: int) -> str:
    """``__schema { types { fields { type { ofType … fields { … } } } } }``: list fields of
    ``__Type`` nested ``levels`` deep."""
    inner = "name"
    for level in range(levels):
        inner = "%s { name %s }" % (LISTS[level % 2] if level % 3 == 0 else "ofType", inner)
    return "{ __schema { types { %s } } }" % inner


def type_ref_introspection(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = "ofType { kind %s }" % inner
    return "{ __schema { types { fields { type { %s } } } } }" % inner


def alias_fan_out(count: int) -> str:
    return "{ %s }" % " ".join(f"a{i}: __typename" for i in range(count))


def field_fan_out(count: int) -> str:
    return '{ jobs(domainId: "%s") { results { %s } } }' % (DOMAIN, " ".join(["jobId"] * count))


def deep_nesting(levels: int) -> str:
    return "{ " + "jobs { results { " * levels + "jobId" + " } }" * levels + " }"


def cyclic_fragments() -> str:
    return "query { ...A } fragment A on Query { ...B __typename } fragment B on Query { ...A }"


def hostile_documents(depth: int = 24) -> Iterator[tuple[str, str]]:
    """(name, document) of the worst documents this module can build."""
    yield f"doubling fragments on Query, depth {depth}", query_chain(depth)
    yield f"doubling fragments on Job in jobs.results, depth {depth}", job_chain(depth)
    yield "introspection, 28 nested levels", nested_introspection(28)
    yield "introspection ofType chain, 28 levels", type_ref_introspection(28)
    yield "1,000 aliases", alias_fan_out(1000)
    yield "450 repeated fields in one selection", field_fan_out(450)
    yield (
        "110 fragments spread in one selection",
        "{ %s } %s"
        % (
            " ".join(f"...F{i}" for i in range(110)),
            " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(110)),
        ),
    )
    yield (
        "240 repeated fields with a selection",
        '{ jobs(domainId: "%s") { results { %s } } }' % (DOMAIN, " ".join(["errors { errorCode }"] * 240)),
    )
    yield "nesting 200 levels deep", deep_nesting(200)
    yield "cyclic fragments", cyclic_fragments()


JOB_FIELDS = (
    "jobId status filter totalTasks remainedTasks scheduleId projectId domainId createdAt "
    "updatedAt finishedAt errors { errorCode message additional } "
    "controllerInfo { controllerId name pluginInfo { pluginId version } }"
)


def accepted_documents() -> Iterator[tuple[str, str]]:
    """(name, document) of the costliest documents that pass every bound (the database behind
    the bench is empty, so execution adds little)."""
    from graphql import get_introspection_query  # noqa: PLC0415

    yield (
        "GraphiQL 3 introspection (230 fields)",
        get_introspection_query(descriptions=True, input_value_deprecation=True, schema_description=True),
    )
    yield (
        "doubling fragments on Job, depth 7",
        'query { jobs(domainId: "%s") { results { ...F7 } } } %s'
        % (DOMAIN, doubling_chain(7, "Job", "jobId status")),
    )
    yield (
        "a field with a selection repeated 33 times",
        '{ jobs(domainId: "%s") { results { %s } } }' % (DOMAIN, " ".join(["errors { errorCode }"] * 33)),
    )
    yield (
        "22 fragments spread in one selection",
        'query { jobs(domainId: "%s") { results { %s } } } %s'
        % (
            DOMAIN,
            " ".join(f"...F{i}" for i in range(22)),
            " ".join(f"fragment F{i} on Job {{ errors {{ errorCode }} }}" for i in range(22)),
        ),
    )
    yield (
        "8 aliased connections, every Job field",
        "{ %s } fragment J on Job { %s }"
        % (
            " ".join(
                f'c{i}: jobsConnection(domainId: "{DOMAIN}", first: 5) {{ edges {{ cursor node {{ ...J }} }} '
                "nodes { ...J } }"
                for i in range(8)
            ),
            JOB_FIELDS,
        ),
    )


def bench_app() -> object:
    settings = Settings(mongodb_uri="mongodb://bench.invalid", demo_jobs=0, graphiql=False)
    database = AsyncMongoMockClient()["power-scheduler"]
    return create_app(settings, MongoHandle(client=None, database=database, embedded=False))


async def measure(depth: int, rounds: int) -> None:
    app = bench_app()
    await asgi.request(app, "POST", "/graphql", b'{"query": "{ __typename }"}', "application/json")
    print(f"{'document':<56} {'median ms':>10} {'worst ms':>9}  answer")
    for name, document in [*hostile_documents(depth), *accepted_documents()]:
        timings = []
        answer = ""
        for round_ in range(rounds):
            body = json.dumps({"query": f"{document} # {round_}"}).encode()
            start = time.perf_counter()
            status, response = await asgi.request(app, "POST", "/graphql", body, "application/json")
            timings.append((time.perf_counter() - start) * 1000)
            errors = json.loads(response).get("errors") or [{}]
            answer = f"{status} {errors[0].get('extensions', {}).get('code', 'answered')}"
        print(f"{name:<56} {statistics.median(timings):10.2f} {max(timings):9.2f}  {answer}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hostile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--depth", type=int, default=24, help="doubling chain levels (24)")
    parser.add_argument("--rounds", type=int, default=5, help="requests per document (5)")
    args = parser.parse_args()
    asyncio.run(measure(args.depth, args.rounds))


if __name__ == "__main__":
    main()
