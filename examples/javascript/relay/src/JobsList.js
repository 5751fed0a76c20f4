// A paginated list of jobs over `jobsConnection` (Relay's @connection), newest first.
// These sources are compiled by relay-compiler (`npm run relay`, see relay.config.json); a Relay
// app would render them with react-relay, which provides `graphql` too.
import { graphql } from "relay-runtime";

export const jobsListFragment = graphql`
  fragment JobsList_query on Query
  @argumentDefinitions(
    domainId: { type: "String" }
    filter: { type: "JobFilter" }
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "String" }
  )
  @refetchable(queryName: "JobsListPaginationQuery") {
    jobsConnection(domainId: $domainId, filter: $filter, first: $count, after: $cursor)
    @connection(key: "JobsList_jobsConnection", filters: ["domainId", "filter"]) {
      totalCount
      edges {
        cursor
        node { id ...JobRow_job }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const jobsListQuery = graphql`
  query JobsListQuery($domainId: String, $filter: JobFilter) {
    ...JobsList_query @arguments(domainId: $domainId, filter: $filter)
  }
`;
