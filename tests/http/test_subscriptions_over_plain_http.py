"""A subscription sent as a plain GraphQL-over-HTTP request is refused with a clear error that
names the transports that serve it (never an internal error)."""

from __future__ import annotations

from tests.conftest import GraphQLClient

SUBSCRIPTION = 'subscription { jobsChanged(domainId: "domain-aaaaaaaaaaaa") { kind jobId } }'


async def test_a_subscription_over_post_is_refused_naming_websocket_and_sse(mock_client: GraphQLClient) -> None:
    response = await mock_client.http.post("/graphql", json={"query": SUBSCRIPTION})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in error["message"] and "text/event-stream" in error["message"]


async def test_a_subscription_over_get_is_refused_the_same_way(mock_client: GraphQLClient) -> None:
    response = await mock_client.http.get(
        "/graphql", params={"query": SUBSCRIPTION}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
