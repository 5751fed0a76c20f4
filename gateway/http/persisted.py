"""Persisted queries: Apollo's automatic persisted queries (APQ) and an allow-list mode.

APQ: a client sends ``extensions.persistedQuery = {version: 1, sha256Hash}`` without the query;
an unknown hash answers ``PERSISTED_QUERY_NOT_FOUND`` and the client retries with the query and
the hash, which is verified and remembered in a bounded LRU cache (per instance). Because the
hash alone names the operation, such requests work over GET and a CDN can cache them.

Allow-list (``GATEWAY_PERSISTED_ONLY``): only the operations of a JSON file run, named by hash
or sent as text; anything else is refused with ``OPERATION_NOT_ALLOWED``. The file is either an
object ``{id: query}``, a list of query strings, or an Apollo persisted query manifest
(``{"operations": [{"id", "body"}, ...]}``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.errors import BadUserInput, GatewayError
from gateway.lru import LruCache

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class PersistedQueryNotFound(GatewayError):
    code = "PERSISTED_QUERY_NOT_FOUND"
    http_status = 404

    def __init__(self) -> None:
        # Apollo clients match this exact message as well as the code.
        super().__init__("PersistedQueryNotFound")


class OperationNotAllowed(GatewayError):
    code = "OPERATION_NOT_ALLOWED"
    http_status = 403


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def load_allow_list(path: Path) -> dict[str, str]:
    """The operations of an allow-list file, by id (and by the sha256 of their text)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read the persisted operations file {path}: {error}") from None
    if isinstance(data, dict) and isinstance(data.get("operations"), list):
        pairs = [(item.get("id"), item.get("body")) for item in data["operations"] if isinstance(item, dict)]
    elif isinstance(data, dict):
        pairs = list(data.items())
    elif isinstance(data, list):
        pairs = [(None, query) for query in data]
    else:
        raise ValueError(f"{path}: expected an object of id → query or a list of queries")
    operations: dict[str, str] = {}
    for key, query in pairs:
        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"{path}: operation {key!r} has no query text")
        operations[sha256_hex(query)] = query
        if key is not None:
            operations[str(key)] = query
    return operations


class PersistedQueries:
    """Turns a request's ``query`` and ``extensions`` into the document to run (or refuses)."""

    def __init__(self, cache_size: int, allow_list: Mapping[str, str] | None = None) -> None:
        self.cache: LruCache[str, str] = LruCache(cache_size)
        self.allow_list = dict(allow_list) if allow_list is not None else None

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str:
        """The document to execute; raises a :class:`GatewayError` with the reason otherwise."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if query is None:
                raise BadUserInput("the request has no query")
            return self._allowed(query)
        sha = self._requested_hash(persisted)
        if query is None:
            known = self._lookup(sha)
            if known is None:
                raise PersistedQueryNotFound()
            return known
        listed = (self.allow_list or {}).get(sha) == query
        if sha256_hex(query) != sha.lower() and not listed:
            raise BadUserInput("provided sha256Hash does not match the query")
        return self._allowed(query)

    def remember(self, query: str, extensions: Mapping[str, Any] | None) -> None:
        """Keep a query that ran under APQ (call once it has parsed and validated)."""
        persisted = (extensions or {}).get("persistedQuery")
        if isinstance(persisted, Mapping) and self.allow_list is None:
            self.cache.put(sha256_hex(query), query)

    def _lookup(self, sha: str) -> str | None:
        if self.allow_list is not None:
            return self.allow_list.get(sha) or self.allow_list.get(sha.lower())
        return self.cache.get(sha.lower())

    def _allowed(self, query: str) -> str:
        if self.allow_list is not None and sha256_hex(query) not in self.allow_list:
            raise OperationNotAllowed(
                "only persisted operations run on this gateway; this operation is not in its "
                "list (GATEWAY_PERSISTED_ONLY)"
            )
        return query

    def _requested_hash(self, persisted: Any) -> str:
        if not isinstance(persisted, Mapping):
            raise BadUserInput("extensions.persistedQuery must be an object")
        if persisted.get("version") != 1:
            raise BadUserInput("unsupported persisted query version; only version 1 is known")
        sha = persisted.get("sha256Hash")
        known_id = isinstance(sha, str) and sha in (self.allow_list or {})
        if not isinstance(sha, str) or not (known_id or _SHA256.match(sha)):
            raise BadUserInput("extensions.persistedQuery.sha256Hash must be a sha256 hex digest")
        return sha
