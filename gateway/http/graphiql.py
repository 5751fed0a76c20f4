"""The GraphiQL page at ``/graphql``: pinned assets served by the gateway, or the CDN without them.

The four files GraphiQL needs (React, ReactDOM, GraphiQL's script and styles) are pinned here by
npm version and Subresource Integrity hash. ``python -m gateway fetch-graphiql`` puts them in
``VENDOR_DIR``, which the app serves at ``/static/vendor``; the page then loads nothing from another
host. Without them the page loads the same files from the CDN, and the gateway logs that once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from string import Template
from typing import Any

from gateway.settings import Settings

log = logging.getLogger("gateway.http.graphiql")

VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
VENDOR_ROUTE = "/static/vendor"
CDN = "https://unpkg.com"
_TEMPLATE = Path(__file__).parent / "templates" / "graphiql.html"


@dataclass(frozen=True)
class Asset:
    """One file of a pinned npm package, with its Subresource Integrity hash."""

    package: str
    version: str
    path: str
    integrity: str

    @property
    def filename(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def cdn_url(self) -> str:
        return f"{CDN}/{self.package}@{self.version}/{self.path}"


REACT = Asset(
    "react", "18.3.1", "umd/react.production.min.js",
    "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
)
REACT_DOM = Asset(
    "react-dom", "18.3.1", "umd/react-dom.production.min.js",
    "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
)
GRAPHIQL_JS = Asset(
    "graphiql", "3.8.3", "graphiql.min.js",
    "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
)
GRAPHIQL_CSS = Asset(
    "graphiql", "3.8.3", "graphiql.min.css",
    "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
)
SCRIPTS = (REACT, REACT_DOM, GRAPHIQL_JS)
ASSETS = (*SCRIPTS, GRAPHIQL_CSS)

EXAMPLE_QUERIES = """\
# Example queries. Run one with ▶ (pick it in the
# list), or put the cursor in it and press Ctrl-Enter.
# The domain is a variable: see Variables, below.
# With GATEWAY_AUTH=jwt, paste into Headers (below)
#   {"Authorization": "Bearer <token>"}
# and set domainId to null: the token names the domain.

query FailedJobs($domainId: String) {
  jobs(domainId: $domainId, status: ERROR, query: {page: {limit: 5}}) {
    totalCount
    results {
      jobId
      status
      createdAt
      errors { errorCode message }
    }
  }
}

query BiggestJobsThisWeek($domainId: String) {
  jobs(
    domainId: $domainId
    query: {
      filter: [{k: "created_at", v: "now/d - 7d", o: TIMEDIFF_GTE}]
      sort: {key: "total_tasks", desc: true}
      page: {start: 1, limit: 10}
    }
  ) {
    totalCount
    results {
      jobId
      status
      totalTasks
      remainedTasks
      controllerInfo { name provider }
    }
  }
}

query UnfinishedJobCount($domainId: String) {
  jobs(
    domainId: $domainId
    query: {filter: [{k: "status", v: ["CREATED", "IN_PROGRESS"], o: IN}], countOnly: true}
  ) {
    totalCount
  }
}
"""


def vendor_files_present(directory: Path = VENDOR_DIR) -> bool:
    """Whether every pinned asset is in ``directory`` (contents are checked when fetched)."""
    return all((directory / asset.filename).is_file() for asset in ASSETS)


def example_domain(settings: Settings) -> str | None:
    """The domain the example queries read: a demo domain, or null for the caller to fill in."""
    if settings.auth == "jwt" or not settings.uses_demo_database:
        return None
    from gateway.demo import DEMO_DOMAINS  # noqa: PLC0415

    return DEMO_DOMAINS[0]


def page_config(settings: Settings) -> dict[str, Any]:
    """What the page's script gives GraphiQL: the default tab and the editor options."""
    headers = '{"Authorization": "Bearer "}' if settings.auth == "jwt" else ""
    return {
        "defaultTabs": [
            {
                "query": EXAMPLE_QUERIES,
                "variables": json.dumps({"domainId": example_domain(settings)}, indent=2),
                "headers": headers,
            }
        ],
        "isHeadersEditorEnabled": True,
        "shouldPersistHeaders": True,
        "defaultEditorToolsVisibility": "headers" if headers else "variables",
    }


def render_page(settings: Settings, *, local: bool) -> str:
    """The HTML page; asset URLs are relative so the page also works under a path prefix."""

    def url(asset: Asset) -> str:
        return f"{VENDOR_ROUTE.lstrip('/')}/{asset.filename}" if local else asset.cdn_url

    cross_origin = "" if local else ' crossorigin="anonymous"'
    scripts = "\n".join(
        f'    <script src="{url(a)}" integrity="{a.integrity}"{cross_origin}></script>'
        for a in SCRIPTS
    )
    stylesheet = (
        f'    <link rel="stylesheet" href="{url(GRAPHIQL_CSS)}" '
        f'integrity="{GRAPHIQL_CSS.integrity}"{cross_origin} />'
    )
    config = json.dumps(page_config(settings)).replace("</", "<\\/")
    return Template(_TEMPLATE.read_text()).substitute(
        stylesheet=stylesheet, scripts=scripts, config=config
    )


class GraphiQLPage:
    """The page, rendered once; logs once when it has to fall back to the CDN."""

    def __init__(self, settings: Settings, vendor_dir: Path = VENDOR_DIR) -> None:
        self.local = vendor_files_present(vendor_dir)
        if not self.local:
            log.warning(
                "GraphiQL assets are missing in %s: the page loads them from %s instead "
                "(run `python -m gateway fetch-graphiql` to serve them from the gateway)",
                vendor_dir, CDN,
            )
        self.html = render_page(settings, local=self.local)
