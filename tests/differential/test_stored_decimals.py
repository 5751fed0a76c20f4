"""A Decimal128 stored inside a JSON field (a job's filter, an error's details, a controller's
tags) is answered, the same by both paths: a JSON number when a double holds it exactly, else
its decimal text (docs/architecture.md, "The JSON encoder")."""

from __future__ import annotations

import json
from typing import Any

from bson import Decimal128
from mongomock_motor import AsyncMongoMockClient

from gateway.mongo.client import MongoHandle
from gateway.settings import Settings
from tests import factories
from tests.conftest import DATABASE, DOMAIN
from tests.differential.apps import app_pair

STORED = {
    "half": Decimal128("1.5"),
    "hundred": Decimal128("1E+2"),
    "tenth": Decimal128("0.1"),
    "precise": Decimal128("0.1000000000000000000000000000000001"),
    "beyond_doubles": Decimal128("9007199254740993"),
    "nan": Decimal128("NaN"),
    "minus_infinity": Decimal128("-Infinity"),
    "nested": [{"price": Decimal128("-2.25")}],
}
EXPECTED = {
    "half": 1.5,
    "hundred": 100,
    "tenth": 0.1,
    "precise": "0.1000000000000000000000000000000001",
    "beyond_doubles": "9007199254740993",
    "nan": "NaN",
    "minus_infinity": "-Infinity",
    "nested": [{"price": -2.25}],
}
QUERY = (
    """{ jobs(domainId: "%s") { results { jobId filter errors { additional }
  controllerInfo { tags } } } }"""
    % DOMAIN
)


async def test_decimals_in_json_fields_are_numbers_or_text_on_both_paths() -> None:
    database = AsyncMongoMockClient(tz_aware=False)[DATABASE]
    controller = factories.controller(DOMAIN, tags=STORED)
    job = factories.job(
        DOMAIN,
        filters=STORED,
        errors=[factories.error("E_PRICE", **STORED)],
        controller=controller["_id"],
    )
    await database["controller"].insert_one(controller)
    await database["job"].insert_one(job)
    settings = Settings(mongodb_uri="mongodb://unused.invalid", demo_jobs=0)
    async with app_pair(settings, MongoHandle(database.client, database, embedded=False)) as pair:
        exchange = await pair.exchange({"query": QUERY})
    standard = exchange.standard
    assert standard.status == 200
    assert exchange.first == exchange.second == standard
    assert exchange.second_outcome == "compiled"
    (result,) = json.loads(standard.body)["data"]["jobs"]["results"]
    expected: dict[str, Any] = {
        "jobId": job["job_id"],
        "filter": EXPECTED,
        "errors": [{"additional": EXPECTED}],
        "controllerInfo": {"tags": EXPECTED},
    }
    assert result == expected
    assert b'"hundred":100,' in standard.body and b'"half":1.5,' in standard.body  # numbers, as written
