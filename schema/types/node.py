"""The ``Node`` interface of the Relay server specification."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a global id: `node(id:)` and `nodes(ids:)` fetch it again.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global id: names the type, the domain and the key; the same on every "
        "request. Normalised client caches key objects by it."
    )
