"""Stored documents → API values, the one mapping both front doors use (GraphQL types in
:mod:`schema.types.job`, SpaceONE's ``JobInfo`` in :mod:`gateway.spaceone.routes`).

Values are JSON-safe (:func:`to_json`) except datetimes, which stay ``datetime`` for the GraphQL
``DateTime`` scalar; :func:`serialize_datetime` is the one text form of both front doors.
A stored ``Decimal128`` is a JSON number when a double holds it exactly (:func:`decimal_json`),
else its decimal text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId


def serialize_datetime(value: datetime) -> str:
    """A stored (naive, UTC) or aware datetime → ISO-8601 UTC text ending in ``Z``."""
    if value.tzinfo is None:  # how dates are stored: already UTC
        return value.isoformat() + "Z"
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


_AS_IS: frozenset[type] = frozenset({str, int, float, bool, type(None)})
"""Exact types ``to_json`` returns unchanged (checked inline to save a call per value)."""


def to_json(value: Any) -> Any:
    """Stored BSON-ish values (dates, ObjectIds) → plain JSON values."""
    if isinstance(value, dict):
        return {str(key): item if type(item) in _AS_IS else to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [item if type(item) in _AS_IS else to_json(item) for item in value]
    if isinstance(value, datetime):
        return serialize_datetime(value)
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, Decimal128):
        return decimal_json(value)
    return value


SAFE_INTEGER = 2**53
"""Integers up to this magnitude are exact in every JSON reader (IEEE doubles)."""


def decimal_json(value: Decimal128) -> int | float | str:
    """A stored ``Decimal128`` as JSON: a number when it is finite and the nearest double is
    the same number (an integer when it is integral and within ±2**53, else a float); otherwise
    (NaN, ±Infinity, more digits than a double holds) its decimal text, e.g. ``"NaN"`` or
    ``"0.1000000000000000000000000000000001"``."""
    number: Decimal = value.to_decimal()
    if not number.is_finite():
        return str(number)
    nearest = float(number)
    if Decimal(repr(nearest)) != number:
        return str(number)
    if number == number.to_integral_value() and abs(number) <= SAFE_INTEGER:
        return int(number)
    return nearest


def job_values(document: Mapping[str, Any]) -> dict[str, Any]:
    """A ``job`` document's API values: status ``NONE`` when unset, the filter stored as
    ``filters`` (or ``filter``), task counts as ints."""
    return {
        "job_id": str(document.get("job_id") or ""),
        "status": document.get("status") or "NONE",
        "filter": to_json(document.get("filters", document.get("filter"))),
        "total_tasks": int(document.get("total_tasks") or 0),
        "remained_tasks": int(document.get("remained_tasks") or 0),
        "schedule_id": document.get("schedule_id"),
        "project_id": document.get("project_id"),
        "domain_id": str(document.get("domain_id") or ""),
        "created_at": document.get("created_at"),
        "updated_at": document.get("updated_at"),
        "finished_at": document.get("finished_at"),
    }


def controller_ref(document: Mapping[str, Any]) -> ObjectId | None:
    """The ``_id`` of the job's controller, when it has one."""
    ref = document.get("controller")
    return ref if isinstance(ref, ObjectId) else None


def error_values(document: Mapping[str, Any]) -> dict[str, Any]:
    """A ``job_error`` document's API values."""
    return {
        "error_code": str(document.get("error_code") or ""),
        "message": str(document.get("message") or ""),
        "additional": to_json(document.get("additional")),
    }


def controller_values(document: Mapping[str, Any]) -> dict[str, Any]:
    """A ``controller`` document's API values; ``plugin_info`` is the stored object, JSON-safe
    (:func:`plugin_values` reads its fields)."""
    plugin = document.get("plugin_info")
    return {
        "controller_id": str(document.get("controller_id") or ""),
        "name": document.get("name"),
        "provider": document.get("provider"),
        "capability": to_json(document.get("capability")),
        "plugin_info": to_json(plugin) if isinstance(plugin, Mapping) else None,
        "tags": to_json(document.get("tags")),
        "created_at": document.get("created_at"),
        "domain_id": document.get("domain_id"),
    }


def plugin_values(plugin: Mapping[str, Any]) -> dict[str, Any]:
    """A controller's ``plugin_info`` object → the plugin's API values."""
    return {
        "plugin_id": str(plugin.get("plugin_id") or ""),
        "version": plugin.get("version"),
        "options": to_json(plugin.get("options")),
        "provider": plugin.get("provider"),
        "metadata": to_json(plugin.get("metadata")),
    }
