"""Stored documents as hypothesis draws them: the shapes the gateway reads, and the awkward
values real collections hold (nulls, missing fields, empty lists, controllers that were deleted,
unicode, 64-bit and non-finite numbers, Decimal128, dates and ids nested in JSON fields, values
of the wrong type)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import Decimal128, ObjectId
from hypothesis import strategies as st

from tests.conftest import DOMAIN, OTHER_DOMAIN
from tests.factories import BASE_TIME, STATUSES

MISSING: Any = object()
"""A drawn field value meaning: leave the field out of the document."""

TEXT = st.text(max_size=12) | st.sampled_from(["", "ü", "漢字", "😀", "a\nb", 'q"uote', "\\"])
INT64 = st.integers(-(2**63), 2**63 - 1)
NUMBERS = (
    st.integers(-(2**31), 2**31 - 1)
    | INT64
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([Decimal128("1.5"), Decimal128("NaN"), Decimal128("-Infinity"), Decimal128("1E+2")])
    | st.decimals(min_value=-(10**20), max_value=10**20, places=3).map(lambda d: Decimal128(str(d)))
)
DATES = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # BSON keeps ms
)
KEYS = st.text(
    st.characters(blacklist_characters="$.\x00", blacklist_categories=["Cs"]), min_size=1, max_size=8
)
JSON_LEAVES = st.none() | st.booleans() | NUMBERS | TEXT | DATES | st.builds(ObjectId)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)


def rarely(
    common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], percent: int = 4
) -> st.SearchStrategy[Any]:
    """``rare`` in about ``percent`` % of the draws: values that make a whole list an error
    (standard execution reports it; a plan gives way) stay rare enough for lists to succeed."""
    return st.integers(0, 99).flatmap(lambda n: rare if n < percent else common)


WRONG_TYPES = rarely(st.sampled_from([7, -1.5, True, 2**40]), st.sampled_from([["x"], {"k": 1}]))
"""Values of another type than the field's: a number in a text field (output coercion makes it
text), rarely a list or an object (an error)."""


def _optional(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value, null, or no field at all."""
    return st.one_of(values, st.none(), st.just(MISSING))


def _document(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not MISSING})


ERRORS = _document(
    {
        "error_code": _optional(st.sampled_from(["ERROR_NOT_FOUND", "E_BUSY", "ÉRREUR"]) | TEXT),
        "message": _optional(TEXT),
        "additional": _optional(JSON_VALUES),
    }
)


def controllers(domain: str) -> st.SearchStrategy[dict[str, Any]]:
    plugin = _document(
        {
            "plugin_id": _optional(TEXT),
            "version": _optional(TEXT | WRONG_TYPES),
            "options": _optional(JSON_VALUES),
            "provider": _optional(st.sampled_from(["aws", "azure"])),
            "metadata": _optional(JSON_VALUES),
        }
    )
    return _document(
        {
            "_id": st.builds(ObjectId),
            "controller_id": st.integers(1, 10**6).map(lambda n: f"controller-{n:012x}"),
            "name": _optional(TEXT | WRONG_TYPES),
            "provider": _optional(st.sampled_from(["aws", "azure", "gcp"])),
            "capability": _optional(JSON_VALUES),
            "plugin_info": _optional(plugin | JSON_LEAVES),
            "tags": _optional(JSON_VALUES),
            "domain_id": st.just(domain),
            "created_at": _optional(DATES),
        }
    )


def jobs(domain: str, controller_ids: list[ObjectId]) -> st.SearchStrategy[dict[str, Any]]:
    counts = rarely(
        st.integers(0, 40) | st.sampled_from([-1, 2.5, "12"]), st.sampled_from([2**31, 2**40, "many"])
    )
    return _document(
        {
            "_id": st.builds(ObjectId),
            "job_id": st.integers(1, 10**9).map(lambda n: f"job-{n:012x}") | TEXT,
            "status": _optional(st.sampled_from([*STATUSES, "PENDING", "error"])),
            "filters": _optional(JSON_VALUES),
            "total_tasks": _optional(counts),
            "remained_tasks": _optional(counts),
            "errors": _optional(st.lists(ERRORS, max_size=3)),
            # its own controller, a deleted one, or none
            "controller": _optional(st.sampled_from(controller_ids or [None]) | st.builds(ObjectId)),
            "schedule_id": _optional(st.sampled_from(["schedule-a", "schedule-b"]) | TEXT | WRONG_TYPES),
            "project_id": _optional(st.sampled_from(["project-x", "project-y"]) | WRONG_TYPES),
            "domain_id": st.just(domain),
            "created_at": _optional(
                st.integers(0, 60 * 24 * 60).map(lambda m: BASE_TIME + timedelta(minutes=m))
            ),
            "updated_at": _optional(rarely(DATES, st.sampled_from(["2026-09-01T12:00:00Z", 1700000000]))),
            "finished_at": _optional(DATES),
        }
    )


@st.composite
def datasets(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(jobs, controllers): most in DOMAIN, a few in OTHER_DOMAIN; job ids unique per domain."""
    stored = draw(st.lists(controllers(DOMAIN), max_size=3, unique_by=lambda c: c["controller_id"]))
    foreign = draw(st.lists(controllers(OTHER_DOMAIN), max_size=1))
    ids = [c["_id"] for c in stored]
    own = draw(st.lists(jobs(DOMAIN, ids), min_size=2, max_size=6, unique_by=lambda j: j["job_id"]))
    others = draw(st.lists(jobs(OTHER_DOMAIN, [c["_id"] for c in foreign]), max_size=2))
    return own + others, stored + foreign
