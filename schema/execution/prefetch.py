"""``errors`` and ``controllerInfo`` loaded for a whole page of jobs before its fields resolve.

A listing resolver that returns jobs reads from its own selection whether the page's jobs will
resolve ``errors`` (and with which parts) or ``controllerInfo``, and loads them for every job of
the page through the request's loaders, in one tick: the same keys the field resolvers would
load, so the same batched command per loader per request, the same domain scope and the same
projection of the error parts. The field resolvers then return the loaded value synchronously
(no coroutine and no future per job), which graphql-core completes far more cheaply.

The field resolvers stay the authority: ``errors`` works out its parts exactly as it would
without a prefetch and falls back to the loader when the page holds nothing for those parts (a
selection this module did not foresee); so does ``controllerInfo``.

When a loader fails for the page, its jobs resolve both fields exactly as without the prefetch
(one awaitable per job and field) from loaders that replay the outcomes already loaded, failures
included, without sending the commands again: errors surface at the same paths, with the same
codes and, within a root field, in the same order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from bson import ObjectId
from strawberry.dataloader import DataLoader
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from gateway.dataloaders import Loaders
from schema.execution.selection import field_selections, job_api_fields, per_document
from schema.internals import raw_info

K = TypeVar("K")
T = TypeVar("T")

Outcome = Any
"""A loaded value, or the exception its loader raised."""


@dataclass(frozen=True, slots=True)
class NestedWanted:
    """What the jobs of a page will resolve through loaders."""

    error_parts: tuple[frozenset[str], ...]
    """Each distinct set of parts, in the order the fields first ask for it."""
    controller: bool
    controller_first: bool = False
    """``controllerInfo`` comes before any ``errors`` (its loader then dispatches first)."""

    def __bool__(self) -> bool:
        return bool(self.error_parts) or self.controller


@dataclass(slots=True)
class PagePrefetch:
    """The loaded ``errors`` (by parts, then job ``_id``) and controllers of one page."""

    errors: dict[frozenset[str], dict[ObjectId, Outcome]]
    controllers: dict[ObjectId, Outcome] | None
    parts_by_node: dict[int, frozenset[str]] = field(default_factory=dict)
    """The parts each ``errors`` field node asks for, worked out once per node."""

    def failed(self) -> bool:
        """Whether a loader raised for any job of the page."""
        outcomes = [
            *(o for page in self.errors.values() for o in page.values()),
            *(self.controllers or {}).values(),
        ]
        return any(isinstance(outcome, BaseException) for outcome in outcomes)


def errors_parts(info: Info[Any, Any]) -> frozenset[str]:
    """The error parts an ``errors`` field asks for (over every node merged into it)."""
    return frozenset(job_api_fields(field_selections(info)))


def prefetched_parts(info: Info[Any, Any], prefetch: PagePrefetch) -> frozenset[str]:
    """:func:`errors_parts`, remembered per field node for the page."""
    node = id(raw_info(info).field_nodes[0])
    parts = prefetch.parts_by_node.get(node)
    if parts is None:
        parts = prefetch.parts_by_node[node] = errors_parts(info)
    return parts


# selection analysis -------------------------------------------------------------------------


def _included(directives: dict[str, Any]) -> bool:
    """``@skip``/``@include`` as graphql-core applies them while collecting fields."""
    skip = directives.get("skip")
    if skip is not None and skip.get("if") is True:
        return False
    include = directives.get("include")
    return not (include is not None and include.get("if") is False)


def _collected(selections: Iterable[Selection]) -> dict[str, list[SelectedField]]:
    """The fields of one selection set grouped by response name, in document order, with
    fragments flattened and skipped nodes left out (graphql-core's field collection)."""
    groups: dict[str, list[SelectedField]] = {}

    def collect(items: Iterable[Selection]) -> None:
        for item in items:
            if not _included(item.directives):
                continue
            if isinstance(item, SelectedField):
                groups.setdefault(item.alias or item.name, []).append(item)
            elif isinstance(item, (FragmentSpread, InlineFragment)):
                collect(item.selections)

    collect(selections)
    return groups


def _merged(group: Iterable[SelectedField]) -> list[Selection]:
    """The sub-selections of every node of one response name, merged."""
    return [child for node in group for child in node.selections]


def sub_selections(selections: Iterable[Selection], name: str) -> list[list[Selection]]:
    """For each response name under which the field ``name`` is selected, the merged
    sub-selections of its nodes."""
    return [_merged(group) for group in _collected(selections).values() if group[0].name == name]


def nested_wanted(job_selections: Iterable[Sequence[Selection]]) -> NestedWanted:
    """What the jobs resolve through loaders, given each selection set applied to them."""
    parts: dict[frozenset[str], None] = {}
    controller = controller_first = False
    for selections in job_selections:
        for group in _collected(selections).values():
            if group[0].name == "errors":
                parts.setdefault(frozenset(job_api_fields(_merged(group))))
            elif group[0].name == "controllerInfo":
                controller_first = controller_first or not (controller or parts)
                controller = True
    return NestedWanted(tuple(parts), controller, controller_first)


NOTHING = NestedWanted((), False)


def nested_wanted_at(info: Info[Any, Any], *paths: tuple[str, ...]) -> NestedWanted:
    """What the jobs reached from the current field along each path of field names (``()``:
    the field's own value) will resolve through loaders. Nothing when the schema was built
    without prefetching."""
    if not getattr(info.schema, "prefetch_nested", True):
        return NOTHING
    return per_document(info, ("nested", *paths), lambda: _nested_wanted_at(info, paths))


def _nested_wanted_at(info: Info[Any, Any], paths: tuple[tuple[str, ...], ...]) -> NestedWanted:
    root = field_selections(info)
    job_selections: list[list[Selection]] = []
    for path in paths:
        level = [root]
        for name in path:
            level = [child for selections in level for child in sub_selections(selections, name)]
        job_selections.extend(level)
    return nested_wanted(job_selections)


# loading ------------------------------------------------------------------------------------


async def _outcomes(loads: list[Awaitable[T]]) -> list[T | BaseException]:
    return await asyncio.gather(*loads, return_exceptions=True)


MISSING: Any = object()


def _replaying(loader: DataLoader[K, T], outcomes: Callable[[K], Outcome]) -> DataLoader[K, T]:
    """A loader answering from ``outcomes`` (exceptions fail their key, as a batch failure
    did) and asking ``loader`` for any key not loaded yet."""

    async def replay(keys: list[K]) -> list[T | BaseException]:
        found = [outcomes(key) for key in keys]
        missing = [key for key, outcome in zip(keys, found, strict=True) if outcome is MISSING]
        loaded = dict(zip(missing, await _outcomes([loader.load(key) for key in missing]), strict=True))
        return [
            loaded[key] if outcome is MISSING else outcome for key, outcome in zip(keys, found, strict=True)
        ]

    return DataLoader(load_fn=replay)


def replay_loaders(loaders: Loaders, prefetch: PagePrefetch) -> Loaders:
    """Loaders for the jobs of a page whose prefetch failed (see the module docstring)."""
    controllers = prefetch.controllers or {}
    return replace(
        loaders,
        errors_by_job_id=_replaying(
            loaders.errors_by_job_id,
            lambda key: prefetch.errors.get(key[1], {}).get(key[0], MISSING),
        ),
        controller_by_id=_replaying(loaders.controller_by_id, lambda key: controllers.get(key, MISSING)),
    )


async def prefetch_page(
    loaders: Loaders, documents: Sequence[dict[str, Any]], wanted: NestedWanted
) -> tuple[Loaders, PagePrefetch | None]:
    """Load what ``wanted`` names for every job document of the page, in one tick: the loaders
    and prefetched values to build the page's jobs with."""
    if not wanted or not documents:
        return loaders, None
    ids = [document["_id"] for document in documents]
    refs = [ref for d in documents if isinstance(ref := d.get("controller"), ObjectId)]

    # Keys in the order the field resolvers would load them, so each batch is the same command.
    def error_loads() -> list[Awaitable[Any]]:
        return [
            loaders.errors_by_job_id.load((job_id, parts)) for parts in wanted.error_parts for job_id in ids
        ]

    def controller_loads() -> list[Awaitable[Any]]:
        return [loaders.controller_by_id.load(ref) for ref in refs] if wanted.controller else []

    if wanted.controller_first:
        first = controller_loads()
        outcomes = await _outcomes([*first, *error_loads()])
        controller_outcomes, error_outcomes = outcomes[: len(first)], outcomes[len(first) :]
    else:
        first = error_loads()
        outcomes = await _outcomes([*first, *controller_loads()])
        error_outcomes, controller_outcomes = outcomes[: len(first)], outcomes[len(first) :]
    errors = {
        parts: dict(zip(ids, error_outcomes[i * len(ids) : (i + 1) * len(ids)], strict=True))
        for i, parts in enumerate(wanted.error_parts)
    }
    controllers = dict(zip(refs, controller_outcomes, strict=True)) if wanted.controller else None
    prefetch = PagePrefetch(errors, controllers)
    if prefetch.failed():
        return replay_loaders(loaders, prefetch), None
    return loaders, prefetch
