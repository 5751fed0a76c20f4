"""Keyset pagination, pure: sort orders, opaque signed cursors and the range filters they imply.

An order is a compiled MongoDB sort whose last key is ``_id`` (unique), so every document has
exactly one position in it. A cursor is that position: the document's sort values and ``_id``,
with the order's fingerprint, as compact JSON, signed with HMAC-SHA256 and base64url-encoded.
Cursors carry no expiry: a position stays meaningful while the data change around it.

MongoDB sorts a null and a missing field alike, before every other value; in a descending order
they come last. Comparisons with ``$gt``/``$lt`` never match null (type bracketing) and
``$gt: null`` matches nothing, so nulls get explicit branches in :func:`after_filter`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from bson import ObjectId
from bson.errors import InvalidId

from gateway.errors import InvalidParameter
from gateway.mongo.expr import SortKey
from gateway.mongo.query import DEFAULT_SORT, Filter, combine_and, combine_or, compile_sort

Order: TypeAlias = Sequence[tuple[str, int]]
"""A compiled sort: (stored path, 1 | -1) pairs, ending with ``_id``."""

Position: TypeAlias = tuple[Any, ...]
"""One value per key of an order (``_id`` last): where a document sits in that order."""

_SIGNATURE_BYTES = 16
_KEY_CONTEXT = b"jobs-gateway cursor v1"


def connection_order(keys: Sequence[SortKey]) -> list[tuple[str, int]]:
    """Sort keys (default: ``created_at`` descending) → an order ending with ``_id`` in the
    direction of the last key, so that one index per field serves both directions."""
    keys = tuple(keys) or DEFAULT_SORT
    return compile_sort((*keys, SortKey("_id", desc=keys[-1].desc)))


def fingerprint(order: Order) -> str:
    """A short, stable name of an order, e.g. ``created_at-,_id-``."""
    return ",".join(f"{path}{'+' if direction > 0 else '-'}" for path, direction in order)


def reverse(order: Order) -> list[tuple[str, int]]:
    """The same order walked backwards."""
    return [(path, -direction) for path, direction in order]


def position_of(document: Mapping[str, Any], order: Order) -> Position:
    """The position of a stored document in ``order`` (a missing field reads as null)."""
    return tuple(_get_path(document, path) for path, _ in order)


def _get_path(document: Mapping[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


# range filters ----------------------------------------------------------------------------


def after_filter(order: Order, position: Position) -> Filter:
    """Documents strictly after ``position`` in ``order``: the OR-expansion
    ``k1 > v1  OR  (k1 = v1 AND k2 > v2)  OR …`` with null-aware comparisons."""
    if len(position) != len(order):
        raise ValueError("a position needs one value per sort key")
    branches: list[Filter] = []
    equal_so_far: list[Filter] = []
    for (path, direction), value in zip(order, position, strict=True):
        beyond = _beyond(path, direction, value)
        if beyond is not None:
            branches.append(combine_and([*equal_so_far, beyond]))
        equal_so_far.append({path: value})  # {path: None} matches null and missing
    return combine_or(branches) if branches else {"_id": {"$in": []}}


def _beyond(path: str, direction: int, value: Any) -> Filter | None:
    """``path`` strictly after ``value`` in one direction; None when nothing can be."""
    if direction > 0:
        return {path: {"$ne": None}} if value is None else {path: {"$gt": value}}
    if value is None:
        return None  # null is the last value of a descending order
    if path == "_id":  # never null
        return {path: {"$lt": value}}
    return {"$or": [{path: {"$lt": value}}, {path: None}]}


def window_filter(order: Order, after: Position | None, before: Position | None) -> Filter:
    """Documents strictly between two positions of ``order`` (either bound may be absent)."""
    return combine_and(
        [
            after_filter(order, after) if after is not None else {},
            after_filter(reverse(order), before) if before is not None else {},
        ]
    )


@dataclass(frozen=True, slots=True)
class KeysetQuery:
    """One page to fetch: ``size`` rows in ``order`` (the direction of travel), strictly after
    ``start`` and strictly before ``stop`` (positions in that same order; either may be None)."""

    order: Order
    size: int
    start: Position | None = None
    stop: Position | None = None


# page window ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A checked ``first``/``last`` request: how many rows, and from which end."""

    size: int
    backward: bool


def page_request(
    first: int | None,
    last: int | None,
    *,
    only_before: bool,
    default_size: int,
    max_size: int,
) -> PageRequest:
    """Check ``first``/``last``; with neither, a default-sized page (from the end when only
    ``before`` is given)."""
    if first is not None and last is not None:
        raise InvalidParameter("give either `first` or `last`, not both")
    for name, value in (("first", first), ("last", last)):
        if value is not None and value < 0:
            raise InvalidParameter(f"`{name}` must not be negative, got {value}")
        if value is not None and value > max_size:
            raise InvalidParameter(
                f"`{name}` {value} is above the maximum page size of {max_size} (GATEWAY_MAX_PAGE_SIZE)"
            )
    if last is not None:
        return PageRequest(last, backward=True)
    if first is not None:
        return PageRequest(first, backward=False)
    return PageRequest(default_size, backward=only_before)


def keyset_query(
    order: Order, request: PageRequest, after: Position | None, before: Position | None
) -> KeysetQuery:
    """The range to fetch: forwards from ``after``, or backwards (reversed order) from ``before``."""
    if request.backward:
        return KeysetQuery(reverse(order), request.size, start=before, stop=after)
    return KeysetQuery(list(order), request.size, start=after, stop=before)


@dataclass(frozen=True, slots=True)
class PageSlice:
    """The documents of a page in the connection's order, and what lies on either side."""

    documents: list[dict[str, Any]]
    has_next: bool
    has_previous: bool


def page_slice(
    fetched: list[dict[str, Any]],
    keyset: KeysetQuery,
    *,
    backward: bool,
    anything_behind: bool | None,
) -> PageSlice:
    """Trim the extra row fetched to learn whether more follow, and put a backward page back
    in order. ``anything_behind`` is the look-behind probe's answer (None when not run)."""
    more = len(fetched) > keyset.size
    documents = fetched[: keyset.size]
    behind = anything_behind if anything_behind is not None else keyset.start is not None
    if backward:
        documents.reverse()
        return PageSlice(documents, has_next=behind, has_previous=more)
    return PageSlice(documents, has_next=more, has_previous=behind)


# cursors ----------------------------------------------------------------------------------


class CursorCodec:
    """Encodes positions as opaque signed cursors and checks cursors sent back.

    Every gateway instance behind one load balancer must share the secret: a cursor made by one
    instance is then accepted by all of them.
    """

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()

    def encode(self, order: Order, position: Position) -> str:
        values, object_id = position[:-1], position[-1]
        if not isinstance(object_id, ObjectId):
            raise TypeError("the last sort key must be _id")
        body = [fingerprint(order), [_to_json(value) for value in values], str(object_id)]
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        token = payload + self._sign(payload)
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")

    def decode(self, cursor: str, order: Order, argument: str) -> Position:
        """The position in ``cursor``; refuses a malformed or tampered cursor, or one made
        for another order, naming ``argument`` (``after`` / ``before``)."""
        token = _unbase64(cursor)
        payload, signature = token[:-_SIGNATURE_BYTES], token[-_SIGNATURE_BYTES:]
        if len(token) <= _SIGNATURE_BYTES or not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidParameter(f"`{argument}` is not a cursor of this connection")
        try:
            made_for, values, object_id = json.loads(payload)
            position = (*(_from_json(value) for value in values), ObjectId(object_id))
        except (ValueError, TypeError, InvalidId):
            raise InvalidParameter(f"`{argument}` is not a cursor of this connection") from None
        if made_for != fingerprint(order) or len(position) != len(order):
            raise InvalidParameter(
                f"`{argument}` is a cursor of another ordering; start again without it when `orderBy` changes"
            )
        return position

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _unbase64(cursor: str) -> bytes:
    try:
        text = cursor.encode("ascii")
        return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return b""


def _to_json(value: Any) -> Any:
    """A sort value as JSON, typed: dates and ObjectIds tagged, scalars as they are."""
    if isinstance(value, datetime):
        return {"d": value.isoformat()}
    if isinstance(value, ObjectId):
        return {"o": str(value)}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot page over a sort value of type {type(value).__name__}")


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and value.keys() == {"d"}:
        return datetime.fromisoformat(value["d"])
    if isinstance(value, dict) and value.keys() == {"o"}:
        return ObjectId(value["o"])
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError("not a sort value")
