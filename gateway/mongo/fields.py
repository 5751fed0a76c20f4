"""The catalogue of queryable Job and Controller fields: API name → stored path and kind.

Client field names are resolved here and nowhere else, so a name that is not in the catalogue
can never reach MongoDB as a path. SpaceONE snake_case names and their camelCase spellings are
both accepted; below a free-form object (``filter.<path>``, ``tags.<path>``, …) the path is the
client's, checked only for characters MongoDB would treat specially.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from gateway.errors import QueryError, shorten, suggestion

JOB_STATUSES = ("CREATED", "CANCELED", "IN_PROGRESS", "SUCCESS", "ERROR", "TIMEOUT")
"""The stored job states, in the order of SpaceONE's ``JobState`` enum numbers (1 to 6)."""
FINISHED_STATUSES = ("SUCCESS", "ERROR", "TIMEOUT", "CANCELED")
"""The states a job ends in (it has a ``finished_at``)."""


class Kind(Enum):
    STRING = "string"
    INT = "int"
    DATE = "date"
    ARRAY = "array"
    OBJECT = "object"
    ANY = "any"


class Target(Enum):
    JOB = "job"
    CONTROLLER = "controller"


@dataclass(frozen=True, slots=True)
class ResolvedField:
    """A client field name resolved to the collection and path it is stored at."""

    name: str
    path: str
    kind: Kind
    target: Target = Target.JOB
    sortable: bool = False
    legacy_path: str | None = None  # where documents written before the `filters` rename keep it


_JOB_FIELDS: dict[str, tuple[str, Kind, bool]] = {
    "job_id": ("job_id", Kind.STRING, True),
    "status": ("status", Kind.STRING, True),
    "filter": ("filters", Kind.OBJECT, True),
    "total_tasks": ("total_tasks", Kind.INT, True),
    "remained_tasks": ("remained_tasks", Kind.INT, True),
    "errors": ("errors", Kind.ARRAY, True),
    "errors.error_code": ("errors.error_code", Kind.STRING, True),
    "errors.message": ("errors.message", Kind.STRING, True),
    "errors.additional": ("errors.additional", Kind.OBJECT, True),
    "schedule_id": ("schedule_id", Kind.STRING, True),
    "project_id": ("project_id", Kind.STRING, True),
    "domain_id": ("domain_id", Kind.STRING, True),
    "created_at": ("created_at", Kind.DATE, True),
    "updated_at": ("updated_at", Kind.DATE, True),
    "finished_at": ("finished_at", Kind.DATE, True),
}
_JOB_FREE_PREFIXES = {"filter": ("filters", True), "errors.additional": ("errors.additional", True)}

_CONTROLLER_FIELDS: dict[str, Kind] = {
    "controller_id": Kind.STRING,
    "name": Kind.STRING,
    "provider": Kind.STRING,
    "capability": Kind.OBJECT,
    "plugin_info": Kind.OBJECT,
    "plugin_info.plugin_id": Kind.STRING,
    "plugin_info.version": Kind.STRING,
    "plugin_info.provider": Kind.STRING,
    "plugin_info.options": Kind.OBJECT,
    "plugin_info.metadata": Kind.OBJECT,
    "tags": Kind.OBJECT,
    "created_at": Kind.DATE,
    "domain_id": Kind.STRING,
}
_CONTROLLER_FREE_PREFIXES = {"capability", "tags", "plugin_info.options", "plugin_info.metadata"}

FIELD_NAMES = (*_JOB_FIELDS, "controller_id", *(f"controller_info.{name}" for name in _CONTROLLER_FIELDS))
"""Every name of the catalogue (an unknown name's closest match is one of them)."""
TOP_LEVEL_FIELDS = (*(name for name in _JOB_FIELDS if "." not in name), "controller_id", "controller_info")
SORTABLE_FIELDS = tuple(name for name, (_, _, sortable) in _JOB_FIELDS.items() if sortable)

_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


@lru_cache(maxsize=4096)  # field names repeat on every request
def snake_case(segment: str) -> str:
    """``errorCode`` → ``error_code``; snake_case input comes back unchanged."""
    return _CAMEL_HUMP.sub(r"_\1", segment).lower()


def check_free_path(name: str, path: str) -> None:
    """Refuse a client path that MongoDB would read as an operator or that cannot be stored."""
    parts = path.split(".")
    if not path or len(path) > 512 or any(not p or p.startswith("$") or "\x00" in p for p in parts):
        raise QueryError(f"invalid field name '{shorten(name)}'")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryError(f"invalid field name '{shorten(name)}'") from None


def _split_known(name: str, prefixes: Collection[str]) -> tuple[str, str | None]:
    """Split ``name`` into its catalogue part (snake_cased) and a free path below a prefix."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        known = ".".join(snake_case(p) for p in parts[:cut])
        if known in prefixes and cut < len(parts):
            return known, ".".join(parts[cut:])
    return ".".join(snake_case(p) for p in parts), None


def resolve_job_field(name: str) -> ResolvedField:
    """Resolve a filter/sort key of the Job API (``controller_info.*`` targets controllers)."""
    check_free_path(name, name)
    known, free = _split_known(name, _JOB_FREE_PREFIXES)
    if free is not None:
        check_free_path(name, free)
        stored, sortable = _JOB_FREE_PREFIXES[known]
        legacy = f"filter.{free}" if known == "filter" else None
        return ResolvedField(name, f"{stored}.{free}", Kind.ANY, sortable=sortable, legacy_path=legacy)
    if known in _JOB_FIELDS:
        path, kind, sortable = _JOB_FIELDS[known]
        legacy = "filter" if known == "filter" else None
        return ResolvedField(name, path, kind, sortable=sortable, legacy_path=legacy)
    if known == "controller_id":
        return ResolvedField(name, "controller_id", Kind.STRING, Target.CONTROLLER)
    head, _, rest = name.partition(".")
    if snake_case(head) == "controller_info" and rest:
        return _resolve_controller_field(name, rest)
    hint = suggestion(known, FIELD_NAMES, "fields", listed=TOP_LEVEL_FIELDS)
    raise QueryError(f"unknown field '{shorten(name)}'{hint}")


def _resolve_controller_field(name: str, rest: str) -> ResolvedField:
    known, free = _split_known(rest, _CONTROLLER_FREE_PREFIXES)
    if free is not None:
        check_free_path(name, free)
        return ResolvedField(name, f"{known}.{free}", Kind.ANY, Target.CONTROLLER)
    if known in _CONTROLLER_FIELDS:
        return ResolvedField(name, known, _CONTROLLER_FIELDS[known], Target.CONTROLLER)
    top_level = tuple(name for name in _CONTROLLER_FIELDS if "." not in name)
    hint = suggestion(
        known, tuple(_CONTROLLER_FIELDS), "controller_info fields", listed=top_level, prefix="controller_info."
    )
    raise QueryError(f"unknown field '{shorten(name)}'{hint}")


def resolve_sort_field(name: str) -> ResolvedField:
    """Resolve a sort key; only fields stored on the job document itself can be sorted on."""
    field = resolve_job_field(name)
    if not field.sortable or field.target is not Target.JOB:
        raise QueryError(f"cannot sort by '{shorten(name)}'; sortable fields: {', '.join(SORTABLE_FIELDS)}")
    return field
