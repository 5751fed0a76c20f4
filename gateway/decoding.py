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

MAX_NUMBER_DIGITS = 4300
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONInputError(ValueError):
    """A client's JSON text that is refused; the message says what and where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _TooManyDigits(Exception):
    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(text: str) -> int:
    digits = len(text) - (text[0] == "-")
    if digits > MAX_NUMBER_DIGITS:
        raise _TooManyDigits(digits)
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS + 32:  # mantissa digits, sign, point and exponent
        raise _TooManyDigits(len(text))
    return float(text)


def loads_request_json(text: bytes | str, what: str, *, max_depth: int | None = None) -> Any:
    """Decode and check one JSON text; ``what`` names it in messages ("the request body")."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")  # json.loads would also guess UTF-16 and UTF-32
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float)
    except UnicodeDecodeError:
        raise JSONInputError(f"{what} is not valid UTF-8") from None
    except json.JSONDecodeError as error:
        raise JSONInputError(f"{what} is not valid JSON: {error.msg}") from None
    except _TooManyDigits as error:
        raise JSONInputError(
            f"{what} holds a number of {error.digits} digits; numbers may have at most "
            f"{MAX_NUMBER_DIGITS} digits"
        ) from None
    except RecursionError:
        bound = f"deeper than {max_depth} levels" if max_depth is not None else "too deeply"
        raise JSONInputError(f"{what} is nested {bound}") from None
    except ValueError as error:  # anything else the parser or Python refuses
        raise JSONInputError(f"{what} is not valid JSON: {error}") from None
    check_json_value(value, what, max_depth=max_depth)
    return value


def check_json_value(value: Any, what: str, *, max_depth: int | None = None) -> None:
    """Refuse lone surrogates in keys and strings, and nesting deeper than ``max_depth``;
    one pass without recursion, so any decoded value can be checked."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            _check_text(item, what, path)
            continue
        if not isinstance(item, (dict, list)):
            continue
        if max_depth is not None and item and len(path) >= max_depth:
            raise JSONInputError(f"{what} is nested deeper than {max_depth} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key, what, (*path, key))
                stack.append((child, (*path, key)))
        else:
            stack.extend((child, (*path, index)) for index, child in enumerate(item))


def _check_text(text: str, what: str, path: tuple[str | int, ...]) -> None:
    if text.isascii():
        return
    found = _LONE_SURROGATE.search(text)
    if found is not None:
        where = f" at {json_path(path)}" if path else ""
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
