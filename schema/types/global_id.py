"""Global object ids (Relay's object identification): ``base64url("<Type>:<domain_id>:<key>")``
without padding, e.g. ``Job:domain-1a2b3c4d5e6f:job-0123456789ab``.

An id names the type, the domain and the key, so it is global across types and domains and the
same on every request and every instance (no secret, no randomness). Clients treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.errors import InvalidParameter, shorten

NODE_TYPES = frozenset({"Job", "ControllerInfo"})
"""The types a global id may name (the implementations of ``Node``)."""

MAX_ID_LENGTH = 512


@dataclass(frozen=True, slots=True)
class GlobalId:
    type_name: str
    domain_id: str
    key: str


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def encode_global_id(type_name: str, domain_id: str, key: str) -> str:
    """``base64.urlsafe_b64encode`` without padding, in one call of the codec (one per job sent)."""
    raw = f"{type_name}:{domain_id}:{key}".encode()
    return binascii.b2a_base64(raw, newline=False).translate(_URL_SAFE).rstrip(b"=").decode("ascii")


def decode_global_id(value: str) -> GlobalId:
    """The parts of an id this API issued; anything else is refused (BAD_USER_INPUT)."""
    refusal = InvalidParameter(f"{shorten(value)!r} is not a global id of this API (give an `id` it returned)")
    if not value or len(value) > MAX_ID_LENGTH:
        raise refusal
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
        type_name, domain_id, key = raw.decode("utf-8").split(":", 2)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refusal from None
    if type_name not in NODE_TYPES or not domain_id or not key:
        raise refusal
    if encode_global_id(type_name, domain_id, key) != value:  # one spelling per object
        raise refusal
    return GlobalId(type_name, domain_id, key)
