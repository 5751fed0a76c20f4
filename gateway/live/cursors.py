"""Opaque, signed ``jobsChanged`` cursors: a change stream's resume token (or, when polling, a
position in update order), signed with HMAC-SHA256 under ``GATEWAY_CURSOR_SECRET`` like the
connection cursors, with a key of their own so neither kind passes for the other."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bson import json_util
from bson.json_util import CANONICAL_JSON_OPTIONS

from gateway.errors import InvalidParameter

_SIGNATURE_BYTES = 16
_KEY_CONTEXT = b"jobs-gateway live cursor v1"


def token_key(token: Mapping[str, Any]) -> str:
    """A resume token as canonical text: equal tokens give equal keys."""
    return json_util.dumps(token, json_options=CANONICAL_JSON_OPTIONS)


@dataclass(frozen=True, slots=True)
class LiveCursor:
    """Where a ``jobsChanged`` stream stood: a resume token, or a polling position."""

    token: Mapping[str, Any] | None = None
    position: tuple[Any, Any] | None = None


class LiveCursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()

    def encode(self, cursor: LiveCursor) -> str:
        body: dict[str, Any] = (
            {"t": cursor.token} if cursor.token is not None else {"p": list(cursor.position or ())}
        )
        payload = json_util.dumps(body, json_options=CANONICAL_JSON_OPTIONS).encode()
        token = payload + self._sign(payload)
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")

    def decode(self, text: str) -> LiveCursor:
        """The cursor in ``text``; refuses anything not made by this codec (BAD_USER_INPUT)."""
        try:
            raw = text.encode("ascii")
            token = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
        except (UnicodeEncodeError, binascii.Error, ValueError):
            token = b""
        payload, signature = token[:-_SIGNATURE_BYTES], token[-_SIGNATURE_BYTES:]
        if len(token) <= _SIGNATURE_BYTES or not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidParameter("`after` is not a cursor of jobsChanged")
        body = json_util.loads(payload, json_options=CANONICAL_JSON_OPTIONS)
        if "t" in body:
            return LiveCursor(token=body["t"])
        return LiveCursor(position=(body["p"][0], body["p"][1]))

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
