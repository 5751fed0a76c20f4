"""Request decoding: every JSON text a client sends (a GraphQL body, GET ``variables`` and
``extensions``, a REST body or ``query`` parameter) is read by :func:`loads_request_json`.

The rule: a JSON text is accepted only when everything in it is data the gateway can hold and
send back. Refused, with a message naming the place (``variables.q.filter[0].k``):

- text that is not Unicode: a lone surrogate escape (``"\\ud800"`` without its pair), which JSON
  allows but no UTF-8 encoder (the response, BSON) can encode;
- a number of more than :data:`MAX_NUMBER_DIGITS` digits (Python's integer-string limit; no
  64-bit MongoDB number comes near it);
- nesting deeper than the caller's bound (and always deeper than the parser can recurse).

NUL characters, huge floats (``1e400`` reads as infinity) and other unusual values stay data: the
compilers that use a value refuse what they cannot use, with the error of that value.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from gateway.errors import json_mistake

MAX_NUMBER_DIGITS = 4300
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONInputError(ValueError):
    """A client's JSON text that is refused; the message says what and where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def loads_request_json(text: bytes | str, what: str, *, max_depth: int | None = None) -> Any:
    """Decode and check one JSON text; ``what`` names it in messages ("the request body")."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")  # json.loads would also guess UTF-16 and UTF-32
        value = json.loads(text)
    except UnicodeDecodeError:
        raise JSONInputError(f"{what} is not valid UTF-8") from None
    except json.JSONDecodeError as error:
        raise JSONInputError(f"{what} is not valid JSON: {json_mistake(error)}") from None
    except RecursionError:
        bound = f"deeper than {max_depth} levels" if max_depth is not None else "too deeply"
        raise JSONInputError(f"{what} is nested {bound}") from None
    except ValueError:  # int(): Python's integer-string limit (sys.get_int_max_str_digits)
        raise JSONInputError(
            f"{what} holds a number of more than {MAX_NUMBER_DIGITS} digits, which cannot be read"
        ) from None
    check_json_value(value, what, max_depth=max_depth)
    return value


def check_json_value(value: Any, what: str, *, max_depth: int | None = None) -> None:
    """Refuse nesting deeper than ``max_depth`` and lone surrogates in keys and strings.

    Both checks run without recursion, mostly in C: the depth level by level, and a value that
    orjson can encode holds no lone surrogate; only when it cannot (a lone surrogate, a number
    beyond 64 bits, nesting beyond orjson's 255 levels) is every key and string looked at."""
    if max_depth is not None and _deeper_than(value, max_depth):
        raise JSONInputError(f"{what} is nested deeper than {max_depth} levels")
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        _find_lone_surrogate(value, what)


def _deeper_than(value: Any, max_depth: int) -> bool:
    level: list[Any] = [value]
    for _ in range(max_depth):
        level = [
            child
            for item in level
            for child in (item.values() if type(item) is dict else item if type(item) is list else ())
            if type(child) is dict or type(child) is list
        ]
        if not level:
            return False
    return True


def _find_lone_surrogate(value: Any, what: str) -> None:
    parents: dict[int, tuple[Any, str | int]] = {}  # container id -> (its container, its key)
    stack: list[Any] = [value] if type(value) in (dict, list) else []
    if type(value) is str:
        _check_text(value, what, parents, None, None)
    while stack:
        item = stack.pop()
        pairs = item.items() if type(item) is dict else enumerate(item)
        for key, child in pairs:
            if type(key) is str and not key.isascii():
                _check_text(key, what, parents, item, key)
            kind = type(child)
            if kind is str:
                if not child.isascii():
                    _check_text(child, what, parents, item, key)
            elif kind is dict or kind is list:
                parents[id(child)] = (item, key)
                stack.append(child)


def _check_text(
    text: str, what: str, parents: dict[int, tuple[Any, str | int]], container: Any, key: str | int | None
) -> None:
    found = _LONE_SURROGATE.search(text)
    if found is None:
        return
    path: list[str | int] = [] if key is None else [key]
    while container is not None and id(container) in parents:
        container, step = parents[id(container)]
        path.append(step)
    where = f" at {json_path(tuple(reversed(path)))}" if path else ""
    raise JSONInputError(
        f"{what} contains a lone surrogate (U+{ord(found.group()):04X}){where}: text must be "
        "valid Unicode (a surrogate escape needs its pair)"
    )


def json_path(path: tuple[str | int, ...]) -> str:
    """``("variables", "q", "filter", 0, "k")`` → ``variables.q.filter[0].k`` (keys made safe)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            shown = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", part)
            text += f".{shown[:40]}" if text else shown[:40]
    return text
