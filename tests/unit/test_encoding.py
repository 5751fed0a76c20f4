"""``json_bytes``: the same JSON value as the standard library, as compact UTF-8."""

from __future__ import annotations

import json

from gateway.encoding import json_bytes


def test_output_matches_the_standard_library_for_plain_values() -> None:
    data = {"data": {"a": [1, -2, 3.25, True, None, "x"], "ü": "日本", "nested": {"k": []}}}
    assert json_bytes(data) == json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def test_an_integer_beyond_64_bits_falls_back_to_the_standard_library() -> None:
    data = {"big": 2**70, "text": "é"}
    assert json.loads(json_bytes(data)) == data
