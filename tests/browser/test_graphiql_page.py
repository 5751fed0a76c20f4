"""GraphiQL in a real browser, as a person uses it: open /graphql, paste a header, run the
default tab's first example, read the result, and never reach another host; and when an asset
cannot load (missing, altered, stalled), the page names it and the fix instead of loading forever."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, Route
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from gateway.demo import DEMO_DOMAINS
from gateway.http.graphiql import (
    GRAPHIQL_JS,
    REACT,
    START_TIMEOUT_SECONDS,
    VENDOR_DIR,
    missing_vendor_files,
)
from tests.live import LiveGateway

REQUEST_ID = "graphiql-browser-test"
RESULT = "document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"
QUERY = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"


def expected_failed_jobs(gateway: LiveGateway, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """FailedJobs on the first demo domain: ERROR jobs, newest first, ``_id`` breaking ties."""
    failed = [
        job for job in gateway.demo_jobs() if job["domain_id"] == DEMO_DOMAINS[0] and job["status"] == "ERROR"
    ]
    failed.sort(key=lambda job: job["_id"])
    failed.sort(key=lambda job: job["created_at"], reverse=True)
    return len(failed), failed[:limit]


@pytest.fixture
def offline_page(browser: Browser, demo_gateway: LiveGateway) -> Any:
    """A fresh page whose requests are all recorded; any to another host is cut off."""
    own = urlsplit(demo_gateway.url).netloc
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    requests: list[Request] = []
    foreign: list[str] = []

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", guard)
    page = context.new_page()
    page.on("request", lambda request: requests.append(request))
    yield page, requests, foreign
    context.close()


def _run_operation(page: Page, name: str) -> dict[str, Any]:
    page.click(".graphiql-execute-button")
    page.get_by_role("menuitem", name=name, exact=True).click()
    page.wait_for_function(f"{RESULT}.includes('\"data\"') || {RESULT}.includes('\"errors\"')")
    result: dict[str, Any] = json.loads(page.evaluate(RESULT))
    return result


def test_graphiql_runs_the_default_example_offline_with_a_pasted_header(
    offline_page: Any, demo_gateway: LiveGateway
) -> None:
    assert missing_vendor_files() == [], f"the package lacks GraphiQL assets in {VENDOR_DIR}"
    page, requests, foreign = offline_page
    page.goto(f"{demo_gateway.url}/graphql")
    page.wait_for_selector(".graphiql-query-editor .CodeMirror")
    assert "query FailedJobs(" in page.evaluate(QUERY)

    page.get_by_role("button", name="Headers").click()
    page.click(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    page.keyboard.type(f'{{"X-Request-Id": "{REQUEST_ID}"')

    result = _run_operation(page, "FailedJobs")

    total, first_page = expected_failed_jobs(demo_gateway, limit=5)
    jobs = result["data"]["jobs"]
    assert jobs["totalCount"] == total
    assert [job["jobId"] for job in jobs["results"]] == [job["job_id"] for job in first_page]
    assert [[e["errorCode"] for e in job["errors"]] for job in jobs["results"]] == [
        [e["error_code"] for e in job["errors"]] for job in first_page
    ]
    posts = [r for r in requests if r.method == "POST" and r.url.endswith("/graphql")]
    assert posts and posts[-1].headers.get("x-request-id") == REQUEST_ID
    introspections = [r for r in posts if "query IntrospectionQuery" in (r.post_data or "")]
    assert introspections, "GraphiQL sent its introspection query"
    for introspection in introspections:  # within every document bound, answered in full
        response = introspection.response()
        assert response is not None
        answer = response.json()
        assert "errors" not in answer
        assert {"Job", "Query"} <= {t["name"] for t in answer["data"]["__schema"]["types"]}
    assert {urlsplit(r.url).path for r in requests} >= {
        "/static/vendor/graphiql.min.js",
        "/static/vendor/react.production.min.js",
    }
    assert foreign == [], f"the page reached other hosts: {foreign}"


PROBLEM = "#graphiql-problem"


def _problem(page: Page) -> str:
    page.wait_for_selector(PROBLEM)
    assert page.locator(".graphiql-query-editor").count() == 0
    assert "Loading GraphiQL" not in page.inner_text("body")
    text: str = page.inner_text(PROBLEM)
    assert "python -m gateway fetch-graphiql" in text and "reinstall jobs-gateway" in text
    return text


def test_a_missing_asset_is_named_on_the_page(offline_page: Any, demo_gateway: LiveGateway) -> None:
    page, _, foreign = offline_page
    page.route(f"**/{GRAPHIQL_JS.url}", lambda route: route.fulfill(status=404, body="Not Found"))
    page.goto(f"{demo_gateway.url}/graphql")
    text = _problem(page)
    assert f"GraphiQL cannot start: {GRAPHIQL_JS.url} did not load" in text
    assert foreign == []


def test_an_asset_that_is_not_the_pinned_file_is_refused_and_named(
    offline_page: Any, demo_gateway: LiveGateway
) -> None:
    page, _, foreign = offline_page
    page.route(
        f"**/{REACT.url}",
        lambda route: route.fulfill(status=200, body="window.React = {};", content_type="text/javascript"),
    )
    page.goto(f"{demo_gateway.url}/graphql")
    text = _problem(page)
    assert f"GraphiQL cannot start: {REACT.url} did not load" in text and "pinned" in text
    assert foreign == []


def test_an_asset_that_never_arrives_is_named_after_the_start_timeout(
    offline_page: Any, demo_gateway: LiveGateway
) -> None:
    page, _, foreign = offline_page
    held: list[Route] = []
    page.clock.install()
    page.route(f"**/{GRAPHIQL_JS.url}", lambda route: held.append(route))
    page.goto(f"{demo_gateway.url}/graphql", wait_until="commit")
    page.wait_for_function("document.getElementById('graphiql') !== null")
    page.wait_for_function("() => window.React !== undefined && window.ReactDOM !== undefined")
    page.clock.run_for((START_TIMEOUT_SECONDS + 1) * 1000)
    text = _problem(page)
    assert f"still waiting for {GRAPHIQL_JS.url} from this gateway" in text
    assert held and foreign == []
    held[0].abort()


@pytest.fixture(scope="module")
def simulated_demo() -> Any:
    """The demo with its live simulator on, polled often."""
    gateway = LiveGateway.start(
        GATEWAY_DEMO_LIVE="true", GATEWAY_LIVE_POLL_SECONDS="0.2", GATEWAY_DEMO_JOBS="300"
    )
    yield gateway
    gateway.stop()


def test_graphiql_runs_a_subscription_over_websocket(browser: Browser, simulated_demo: LiveGateway) -> None:
    domain = DEMO_DOMAINS[0]
    page = browser.new_page()
    try:
        page.goto(f"{simulated_demo.url}/graphql")
        page.wait_for_selector(".graphiql-query-editor .CodeMirror")
        page.wait_for_load_state("networkidle")  # the schema is loaded: the run button works
        subscription = (
            'subscription Live { jobsChanged(domainId: "%s") { kind jobId job { domainId status } } }' % domain
        )
        page.evaluate(
            "(text) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text)",
            subscription,
        )
        page.wait_for_timeout(1000)  # GraphiQL takes the edited document after a debounce
        with page.expect_websocket() as opened:
            page.click(".graphiql-execute-button")
            live = page.get_by_role("menuitem", name="Live", exact=True)
            try:  # GraphiQL may still hold the earlier document of several operations
                live.click(timeout=2000)
            except PlaywrightTimeout:
                pass
        assert opened.value.url.startswith("ws://")
        page.wait_for_function(f"{RESULT}.includes('jobsChanged')", timeout=30_000)
        change = json.loads(page.evaluate(RESULT))["data"]["jobsChanged"]
        assert change["kind"] in ("CREATED", "UPDATED") and change["job"]["domainId"] == domain
    finally:
        page.close()
