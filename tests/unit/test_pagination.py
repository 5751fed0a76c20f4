"""Keyset pieces on their own: cursor encoding and checks, range filters, page requests."""

from __future__ import annotations

import base64
import functools
import json
import logging
import random
from datetime import datetime
from typing import Any

import mongomock
import pytest
from bson import ObjectId
from pydantic import ValidationError

from gateway.app import create_app
from gateway.errors import InvalidParameter
from gateway.mongo.client import MongoHandle
from gateway.mongo.expr import SortKey
from gateway.mongo.pagination import (
    CursorCodec,
    after_filter,
    connection_order,
    page_request,
    window_filter,
)
from gateway.settings import Settings
from tests.reference import compare_nulls_first

ORDER = [("created_at", -1), ("status", 1), ("_id", -1)]
POSITION = (datetime(2026, 9, 1, 12, 30, 5, 123000), None, ObjectId())
CODEC = CursorCodec("a-secret-for-tests-only")


def test_a_cursor_gives_back_its_position() -> None:
    for position in (POSITION, (datetime(2026, 1, 1), "SUCCESS", ObjectId()), (None, "ERROR", ObjectId())):
        cursor = CODEC.encode(ORDER, position)
        assert CODEC.decode(cursor, ORDER, "after") == position
        assert cursor.isascii() and "=" not in cursor and "/" not in cursor


def test_an_int_and_a_date_keep_their_types() -> None:
    order = [("total_tasks", 1), ("finished_at", 1), ("_id", 1)]
    position = (7, datetime(2026, 9, 1), ObjectId())
    decoded = CODEC.decode(CODEC.encode(order, position), order, "after")
    assert decoded == position
    assert [type(v) for v in decoded] == [int, datetime, ObjectId]


def test_instances_sharing_the_secret_accept_each_other_s_cursors() -> None:
    cursor = CursorCodec("shared-secret-value").encode(ORDER, POSITION)
    assert CursorCodec("shared-secret-value").decode(cursor, ORDER, "after") == POSITION


def _refused(cursor: str) -> str:
    with pytest.raises(InvalidParameter) as raised:
        CODEC.decode(cursor, ORDER, "before")
    assert raised.value.code == "BAD_USER_INPUT"
    assert "`before`" in raised.value.message
    return raised.value.message


def test_a_cursor_signed_with_another_secret_is_refused() -> None:
    _refused(CursorCodec("another-secret-value").encode(ORDER, POSITION))


def test_a_tampered_cursor_is_refused() -> None:
    cursor = CODEC.encode(ORDER, POSITION)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    payload, signature = raw[:-16], raw[-16:]
    body = json.loads(payload)
    body[1][0] = {"d": "2030-01-01T00:00:00"}  # jump ahead, keep the old signature
    forged = json.dumps(body, separators=(",", ":")).encode() + signature
    _refused(base64.urlsafe_b64encode(forged).decode().rstrip("="))
    for index in range(0, len(cursor), 7):  # any changed character
        changed = cursor[:index] + ("A" if cursor[index] != "A" else "B") + cursor[index + 1 :]
        _refused(changed)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "x",
        "!!!!",
        "é",
        "a" * 5000,
        "WyJ",
        "null",
        base64.urlsafe_b64encode(b"[1,2,3]" + b"0" * 16).decode(),
    ],
)
def test_a_malformed_cursor_is_refused(cursor: str) -> None:
    _refused(cursor)


def test_a_cursor_of_another_ordering_is_refused() -> None:
    other = [("created_at", 1), ("status", 1), ("_id", 1)]
    message = _refused(CODEC.encode(other, POSITION))
    assert "another ordering" in message


def test_the_tie_breaker_follows_the_last_key() -> None:
    assert connection_order(()) == [("created_at", -1), ("_id", -1)]
    assert connection_order((SortKey("status"), SortKey("finished_at", desc=True))) == [
        ("status", 1),
        ("finished_at", -1),
        ("_id", -1),
    ]
    assert connection_order((SortKey("job_id"),)) == [("job_id", 1), ("_id", 1)]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (2, 3, "not both"),
        (-1, None, "negative"),
        (None, -5, "negative"),
        (11, None, "maximum page size"),
        (None, 11, "maximum page size"),
    ],
)
def test_bad_page_sizes_are_refused(first: int | None, last: int | None, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        page_request(first, last, only_before=False, default_size=5, max_size=10)


def test_page_sizes() -> None:
    def request(first: int | None, last: int | None, only_before: bool = False) -> Any:
        found = page_request(first, last, only_before=only_before, default_size=5, max_size=10)
        return found.size, found.backward

    assert request(None, None) == (5, False)
    assert request(None, None, only_before=True) == (5, True)
    assert request(0, None) == (0, False)
    assert request(None, 10) == (10, True)


# range filters, checked against an in-memory MongoDB and a plain Python sort ----------------


def _documents(rng: random.Random) -> list[dict[str, Any]]:
    documents = []
    for _ in range(40):
        document: dict[str, Any] = {"_id": ObjectId()}
        for key, pool in (("a", [1, 2, 3, None, "missing"]), ("b", ["x", "y", None, "missing"])):
            value = rng.choice(pool)
            if value != "missing":
                document[key] = value
        documents.append(document)
    return documents


def _python_sorted(documents: list[dict[str, Any]], order: list[tuple[str, int]]) -> list[Any]:
    def compare(x: dict[str, Any], y: dict[str, Any]) -> int:
        for path, direction in order:
            result = compare_nulls_first(x.get(path), y.get(path))
            if result:
                return result * direction
        return 0

    return [d["_id"] for d in sorted(documents, key=functools.cmp_to_key(compare))]


ORDERS = [
    [("a", 1), ("_id", 1)],
    [("a", -1), ("_id", -1)],
    [("a", -1), ("_id", 1)],
    [("a", 1), ("b", -1), ("_id", 1)],
    [("b", -1), ("a", 1), ("_id", -1)],
    [("b", 1), ("a", -1), ("_id", -1)],
]


@pytest.mark.parametrize("order", ORDERS, ids=str)
def test_after_each_position_come_exactly_the_rest(order: list[tuple[str, int]]) -> None:
    rng = random.Random(str(order))
    collection = mongomock.MongoClient().db.docs
    documents = _documents(rng)
    collection.insert_many([dict(d) for d in documents])
    expected = _python_sorted(documents, order)
    by_id = {d["_id"]: d for d in documents}
    assert [d["_id"] for d in collection.find({}, sort=order)] == expected
    for index, object_id in enumerate(expected):
        position = tuple(by_id[object_id].get(path) for path, _ in order)
        found = [d["_id"] for d in collection.find(after_filter(order, position), sort=order)]
        assert found == expected[index + 1 :]
        stop = rng.randrange(len(expected))
        stop_position = tuple(by_id[expected[stop]].get(path) for path, _ in order)
        window = window_filter(order, position, stop_position)
        assert [d["_id"] for d in collection.find(window, sort=order)] == expected[index + 1 : stop]


# the cursor secret setting ----------------------------------------------------------------


def test_the_cursor_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_CURSOR_SECRET", "a-production-secret-value")
    settings = Settings()
    assert settings.cursor_secret.get_secret_value() == "a-production-secret-value"
    assert not settings.uses_development_cursor_secret
    assert "a-production-secret-value" not in repr(settings)


def test_a_short_cursor_secret_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_CURSOR_SECRET", "short")
    with pytest.raises(ValidationError):
        Settings()


async def test_serving_a_real_database_with_the_development_key_warns(
    caplog: pytest.LogCaptureFixture, mock_db: Any
) -> None:
    settings = Settings(mongodb_uri="mongodb://unused.invalid")
    assert settings.uses_development_cursor_secret
    app = create_app(settings, MongoHandle(mock_db.client, mock_db, embedded=False))
    with caplog.at_level(logging.WARNING, logger="gateway"):
        async with app.router.lifespan_context(app):
            pass
    assert any("GATEWAY_CURSOR_SECRET" in record.getMessage() for record in caplog.records)
