"""The GraphiQL page at ``/graphql``, with its pinned assets served by the gateway itself.

The four files GraphiQL needs (React, ReactDOM, GraphiQL's script and styles) are pinned here by
npm version and Subresource Integrity hash, and ship in the package (``VENDOR_DIR``, next to this
module, with their MIT licences), served at ``/static/vendor``: the page loads nothing from
another host. ``python -m gateway fetch-graphiql`` replaces them after the pins here change.

There is no CDN fallback: the files are always in the package, and a page that reaches out to
another host would hang on a closed network. Should a file be missing or not match its pin
(a broken install, an edited file), the page says which one and how to fix it, instead of
"Loading GraphiQL…" forever, and the gateway logs it at start.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from string import Template
from typing import Any

import anyio
from starlette.staticfiles import StaticFiles

from gateway.settings import Settings

log = logging.getLogger("gateway.http.graphiql")

VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
VENDOR_ROUTE = "/static/vendor"
START_TIMEOUT_SECONDS = 20
"""How long the page waits for its assets before it says which ones have not arrived."""
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
    def url(self) -> str:
        """Relative, so the page also works under a path prefix."""
        return f"{VENDOR_ROUTE.lstrip('/')}/{self.filename}"


REACT = Asset(
    "react",
    "18.3.1",
    "umd/react.production.min.js",
    "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
)
REACT_DOM = Asset(
    "react-dom",
    "18.3.1",
    "umd/react-dom.production.min.js",
    "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
)
GRAPHIQL_JS = Asset(
    "graphiql",
    "3.8.3",
    "graphiql.min.js",
    "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
)
GRAPHIQL_CSS = Asset(
    "graphiql",
    "3.8.3",
    "graphiql.min.css",
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


def missing_vendor_files(directory: Path = VENDOR_DIR) -> list[str]:
    """The pinned assets absent from ``directory`` (their contents are checked by the browser)."""
    return [asset.filename for asset in ASSETS if not (directory / asset.filename).is_file()]


def vendor_files_present(directory: Path = VENDOR_DIR) -> bool:
    """Whether every pinned asset is in ``directory``."""
    return not missing_vendor_files(directory)


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


def render_page(settings: Settings) -> str:
    """The HTML page: every asset from the gateway, hash-checked by the browser."""
    scripts = "\n".join(
        f'    <script src="{a.url}" integrity="{a.integrity}" data-asset="{a.url}"></script>' for a in SCRIPTS
    )
    stylesheet = (
        f'    <link rel="stylesheet" href="{GRAPHIQL_CSS.url}" '
        f'integrity="{GRAPHIQL_CSS.integrity}" data-asset="{GRAPHIQL_CSS.url}" />'
    )
    config = json.dumps(page_config(settings)).replace("</", "<\\/")
    return Template(_TEMPLATE.read_text()).substitute(
        stylesheet=stylesheet,
        scripts=scripts,
        config=config,
        assets=json.dumps([asset.url for asset in ASSETS]),
        timeout_ms=START_TIMEOUT_SECONDS * 1000,
    )


class VendorFiles(StaticFiles):
    """The packaged assets at ``VENDOR_ROUTE``: Starlette's ``StaticFiles``, except that an absent
    folder (a broken install) answers 404 for each file, like any missing file, instead of 500."""

    def __init__(self, directory: Path = VENDOR_DIR) -> None:
        super().__init__(directory=directory, check_dir=False)

    async def check_config(self) -> None:
        if self.directory is not None and not await anyio.to_thread.run_sync(Path(self.directory).is_dir):
            return
        await super().check_config()


class GraphiQLPage:
    """The page, rendered once; logs at start when an asset is missing from the package."""

    def __init__(self, settings: Settings, vendor_dir: Path = VENDOR_DIR) -> None:
        if missing := missing_vendor_files(vendor_dir):
            log.warning(
                "GraphiQL cannot start: %s missing from %s; reinstall jobs-gateway, or run "
                "`python -m gateway fetch-graphiql` to write them there",
                ", ".join(missing),
                vendor_dir,
            )
        self.html = render_page(settings)
