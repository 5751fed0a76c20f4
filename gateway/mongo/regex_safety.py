"""Refuse regular expressions whose matching time can explode (catastrophic backtracking).

A pattern runs inside MongoDB (or, for the embedded demo database, in this process) against
every candidate value, so one pathological pattern can stall a server. Two shapes are refused:
a repeated group that itself contains a repetition or an alternation (``(a+)+``, ``(\\w|\\d)*``:
exponential), and more than ``MAX_UNBOUNDED`` unbounded repetitions in one pattern
(``.*a.*b.*c``: polynomial of that degree over messages of 2,000 characters).
"""

from __future__ import annotations

# The one module allowed the stdlib regex parser's private modules (ruff TID251 elsewhere; their
# behaviour is checked by tests/unit/test_library_internals.py).
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

MAX_UNBOUNDED = 2
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_GROUPS = {sre.SUBPATTERN, getattr(sre, "ATOMIC_GROUP", sre.SUBPATTERN)}


def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` may take exponential or high-polynomial time, or None when it is safe.
    ``pattern`` must already compile."""
    tree = sre_parse.parse(pattern)
    unbounded = 0
    stack: list[tuple[Any, bool]] = [(tree, False)]
    while stack:
        items, repeated = stack.pop()
        for op, av in items:
            if op in _REPEATS:
                low, high, sub = av
                repeats = high == sre.MAXREPEAT or high > 1
                if repeats and repeated:
                    return "a repeated group contains another repetition"
                unbounded += high == sre.MAXREPEAT
                stack.append((sub, repeated or repeats))
            elif op in _GROUPS:
                stack.append((av[-1], repeated))
            elif op == sre.BRANCH:
                if repeated:
                    return "a repeated group contains an alternation"
                stack.extend((branch, repeated) for branch in av[1])
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                stack.append((av[1], repeated))
            elif op == sre.GROUPREF_EXISTS:
                stack.extend((branch, repeated) for branch in av[1:] if branch is not None)
    if unbounded > MAX_UNBOUNDED:
        return f"it has more than {MAX_UNBOUNDED} unbounded repetitions (*, +, {{n,}})"
    return None
