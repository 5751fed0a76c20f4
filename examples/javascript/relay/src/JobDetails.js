// One job by its global id, and a backwards page (last/before) of the newest failed jobs.
import { graphql } from "relay-runtime";

export const jobDetailsQuery = graphql`
  query JobDetailsQuery($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Job { domainId }
      ...JobRow_job @alias
      ...ControllerBadge_controller @alias
    }
  }
`;

export const jobDetailsBatchQuery = graphql`
  query JobDetailsBatchQuery($ids: [ID!]!) {
    nodes(ids: $ids) { id ...JobRow_job @alias }
  }
`;

export const failedJobsBackwardsQuery = graphql`
  query JobDetailsFailedBackwardsQuery($domainId: String, $before: String) {
    jobsConnection(domainId: $domainId, filter: { status: { eq: ERROR } }, last: 5, before: $before) {
      edges { cursor node { id jobId } }
      pageInfo { hasPreviousPage startCursor }
    }
  }
`;
