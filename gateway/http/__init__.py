"""The GraphQL front door: the endpoint and its GraphQL-over-HTTP rules, persisted queries, the
request body limit, and the GraphiQL page with its packaged assets."""
