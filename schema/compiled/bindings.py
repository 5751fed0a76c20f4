"""What a compiled operation works out from its variable values, kept for values seen again.

For one document, everything a run needs before it calls the root resolvers is a function of
the variable values alone: their coercion, the plan variant their ``@skip``/``@include``
values choose, the estimated cost and each root field's coerced arguments. Clients send the
same values again and again (a dashboard polling, a list paged back and forth), so each
compiled operation keeps the last :data:`MAX_BINDINGS` of them, keyed by the ``repr`` of the
values as the client sent them (so ``1``, ``1.0`` and ``true`` stay apart). Values whose key
is longer than :data:`MAX_KEY_CHARS` are worked out for every request and never kept.

Arguments are handed to resolvers as fresh containers each time (:func:`fresh`): a ``JSON``
value reaches a resolver as it is, and one request must never see another's change to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_BINDINGS = 8
"""Variable values kept per compiled operation."""
MAX_KEY_CHARS = 512
"""Longer variable values are not kept: their coercion is not shared. With the plan cache's
default of 512 operations, what is kept stays in the tens of megabytes even when every kept
operation is flooded with distinct values of this size."""


@dataclass(frozen=True, slots=True)
class Binding:
    """One operation's run-up for one set of variable values."""

    variables: Any
    """graphql-core's coerced variable values."""
    plan: Any
    """The plan variant of these values, or None: run the standard way."""
    cost: int | None
    """The estimated cost, or None when the operation's cost is not estimated."""
    arguments: tuple[dict[str, Any] | None, ...]
    """Each root field's coerced arguments (None: they do not coerce; the run gives way)."""


def binding_key(raw_variables: dict[str, Any]) -> str | None:
    """The key of ``raw_variables`` (as decoded from the request), or None: not to be kept."""
    key = repr(raw_variables)
    return key if len(key) <= MAX_KEY_CHARS else None


def fresh(value: Any) -> Any:
    """``value`` with every dict and list in it copied: the same data, shared with no one."""
    if isinstance(value, dict):
        return {key: fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [fresh(item) for item in value]
    return value
