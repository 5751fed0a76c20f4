"""Expected answers in plain Python, written from the API contract and MongoDB's documented
semantics, independently of the gateway's code: JobFilter matching and connection order."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

# JobFilter field → stored path (top-level fields of the job document)
SCALAR_FIELDS = {
    "jobId": "job_id",
    "status": "status",
    "scheduleId": "schedule_id",
    "projectId": "project_id",
    "totalTasks": "total_tasks",
    "remainedTasks": "remained_tasks",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "finishedAt": "finished_at",
}
DATE_FIELDS = {"createdAt", "updatedAt", "finishedAt"}
ORDER_PATHS = {
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
    "FINISHED_AT": "finished_at",
    "STATUS": "status",
    "TOTAL_TASKS": "total_tasks",
    "REMAINED_TASKS": "remained_tasks",
    "JOB_ID": "job_id",
}
_MISSING = object()


def as_stored(value: Any, is_date: bool) -> Any:
    """A GraphQL input value as it is stored (dates: naive UTC)."""
    if is_date and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    if isinstance(value, list):
        return [as_stored(item, is_date) for item in value]
    return value


def _compare(value: Any, operator: str, wanted: Any) -> bool:
    """One operator on one stored value (``_MISSING`` when the field is absent)."""
    present = value is not _MISSING
    plain = None if value is _MISSING else value
    if operator == "exists":
        return present == wanted
    if operator == "isNull":
        return (plain is None) == wanted
    if operator == "eq":
        return plain is not None and plain == wanted
    if operator == "ne":
        return not (plain is not None and plain == wanted)
    if operator == "in":
        return plain is not None and plain in wanted
    if operator == "nin":
        return not (plain is not None and plain in wanted)
    if operator == "contains":
        return isinstance(plain, str) and wanted.lower() in plain.lower()
    if operator == "startsWith":
        return isinstance(plain, str) and plain.lower().startswith(wanted.lower())
    if plain is None or type(plain) is not type(wanted):  # type bracketing: no cross-type order
        return False
    return {"gt": plain > wanted, "gte": plain >= wanted, "lt": plain < wanted, "lte": plain <= wanted}[
        operator
    ]


def _field_holds(value: Any, conditions: Mapping[str, Any], is_date: bool = False) -> bool:
    return all(
        _compare(value, operator, as_stored(wanted, is_date))
        for operator, wanted in conditions.items()
        if wanted is not None
    )


def _codes_hold(errors: Any, conditions: Mapping[str, Any]) -> bool:
    """``errorCode``: a path through the ``errors`` array; positive operators need one element
    that satisfies them, negative ones (ne, nin) need no element equal to the value."""
    codes = [e.get("error_code") for e in errors or () if isinstance(e, dict)]
    for operator, wanted in conditions.items():
        if wanted is None:
            continue
        if operator == "ne" and wanted in codes or operator == "nin" and set(codes) & set(wanted):
            return False
        if operator not in ("ne", "nin") and not any(_compare(c, operator, wanted) for c in codes):
            return False
    return True


def job_matches(
    job_filter: Mapping[str, Any] | None,
    job: Mapping[str, Any],
    controllers: Mapping[Any, Mapping[str, Any]],
) -> bool:
    """``controllers``: the caller's controllers by ``_id``. ``or: []`` is ignored like a null."""
    for name, value in (job_filter or {}).items():
        if value is None:
            continue
        if name == "and":
            ok = all(job_matches(child, job, controllers) for child in value)
        elif name == "or":
            ok = not value or any(job_matches(child, job, controllers) for child in value)
        elif name == "not":
            ok = not job_matches(value, job, controllers)
        elif name == "hasErrors":
            ok = bool(job.get("errors")) == value
        elif name == "keyword":
            words = [word for word in value.strip().split(" ") if word]  # the space character only
            ok = not words or any(w.lower() in str(job.get("job_id", "")).lower() for w in words)
        elif name == "errorCode":
            ok = _codes_hold(job.get("errors"), value)
        elif name == "controllerId":  # negations: none of the matching controllers (python-core)
            controller = controllers.get(job.get("controller"))
            own = controller.get("controller_id", _MISSING) if controller is not None else None
            positive = {op: wanted for op, wanted in value.items() if op not in ("ne", "nin")}
            ok = controller is not None and _field_holds(own, positive) if positive else True
            if value.get("ne") is not None:
                ok = ok and not (controller is not None and own == value["ne"])
            if value.get("nin") is not None:
                ok = ok and not (controller is not None and own in value["nin"])
        else:
            ok = _field_holds(job.get(SCALAR_FIELDS[name], _MISSING), value, name in DATE_FIELDS)
        if not ok:
            return False
    return True


def compare_nulls_first(a: Any, b: Any) -> int:
    if a is None or b is None:
        return (a is not None) - (b is not None)
    return (a > b) - (a < b)


def connection_order(
    jobs: Iterable[Mapping[str, Any]], order_by: list[dict[str, str]] | None = None
) -> list[Mapping[str, Any]]:
    """Jobs in a connection's order: the keys given (default CREATED_AT DESC), null (or missing)
    lowest, ties broken by ``_id`` in the direction of the last key."""
    keys = [(ORDER_PATHS[o["field"]], o.get("direction", "ASC") == "DESC") for o in order_by or ()]
    keys = keys or [("created_at", True)]
    keys.append(("_id", keys[-1][1]))

    def compare(x: Mapping[str, Any], y: Mapping[str, Any]) -> int:
        for path, desc in keys:
            result = compare_nulls_first(x.get(path), y.get(path))
            if result:
                return -result if desc else result
        return 0

    return sorted(jobs, key=functools.cmp_to_key(compare))
