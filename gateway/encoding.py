"""Response encoding: JSON as compact UTF-8 bytes, through orjson.

The output parses to the same value as ``json.dumps`` of the same data; it differs in form only:
non-ASCII text is sent as UTF-8 rather than ``\\uXXXX`` escapes, and a non-finite float (NaN,
±Infinity, which JSON cannot express) becomes ``null`` instead of an invalid token. Values orjson
cannot encode (an integer beyond 64 bits) fall back to the standard library; text that is not
Unicode (a lone surrogate, which request decoding refuses, so only a backstop) is sent escaped.
"""

from __future__ import annotations

import json

import orjson


def json_bytes(data: object) -> bytes:
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        try:
            return text.encode()
        except UnicodeEncodeError:
            return json.dumps(data, separators=(",", ":")).encode()
