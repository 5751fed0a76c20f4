// Jobs of one domain from jobs-gateway with Apollo Client 4 in Node.js, using the default
// normalised cache (jobs and controllers are keyed by their global `id`, no configuration):
// lists the newest jobs, pages through the failed ones with `jobsConnection` merged by
// `relayStylePagination`, refetches one job by `node(id:)` into the same cache entry, and reads
// a GraphQL error's `extensions.code`.
//
//   npm ci && node apollo-jobs.mjs http://127.0.0.1:8000/graphql domain-7f3a1c9e2b4d
//
// With GATEWAY_AUTH=jwt, put the token in JOBS_GATEWAY_TOKEN and leave the domain out.
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { relayStylePagination } from "@apollo/client/utilities";

const [url = "http://127.0.0.1:8000/graphql", domainId = null, pageSize = "100"] =
  process.argv.slice(2);
const token = process.env.JOBS_GATEWAY_TOKEN;

const client = new ApolloClient({
  link: new HttpLink({ uri: url, headers: token ? { Authorization: `Bearer ${token}` } : {} }),
  cache: new InMemoryCache({
    typePolicies: {
      // Pages of the same connection (same filter and domain) are merged into one list.
      Query: { fields: { jobsConnection: relayStylePagination(["filter", "orderBy", "domainId"]) } },
    },
  }),
});

const NEWEST_JOBS = gql`
  query NewestJobs($domainId: String) {
    jobs(domainId: $domainId, query: { page: { limit: 5 }, sort: { key: "created_at", desc: true } }) {
      totalCount
      results { id jobId status createdAt controllerInfo { id name } }
    }
  }
`;

const FAILED_JOBS = gql`
  query FailedJobs($domainId: String, $first: Int!, $after: String) {
    jobsConnection(domainId: $domainId, filter: { status: { eq: ERROR } }, first: $first, after: $after) {
      totalCount
      edges { cursor node { id jobId createdAt errors { errorCode } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

const JOB_BY_ID = gql`
  query JobById($id: ID!) {
    node(id: $id) { id ... on Job { jobId status remainedTasks } }
  }
`;

// A mistake on purpose: the `in` operator needs a list of values.
const MISTAKEN = gql`
  query Mistaken($domainId: String) {
    jobs(domainId: $domainId, query: { filter: [{ k: "status", v: "ERROR", o: IN }] }) {
      totalCount
    }
  }
`;

/** Every page of failed jobs: each page is fetched after the previous one's endCursor and
 * merged into one list in the cache by relayStylePagination. */
async function allFailedJobs(first) {
  let pagesRead = 0;
  let after = null;
  for (;;) {
    const { data } = await client.query({
      query: FAILED_JOBS, variables: { domainId, first, after }, fetchPolicy: "network-only",
    });
    pagesRead += 1;
    const { hasNextPage, endCursor } = data.jobsConnection.pageInfo;
    if (!hasNextPage || endCursor === after) break;
    after = endCursor;
  }
  const merged = client.readQuery({ query: FAILED_JOBS, variables: { domainId, first } });
  return { connection: merged.jobsConnection, pagesRead };
}

/** The first GraphQL error of a rejected request, as the frontend would show it. */
function rejection(error) {
  if (!CombinedGraphQLErrors.is(error)) throw error; // network failures and HTTP errors
  const [first] = error.errors;
  return {
    code: first.extensions?.code ?? "UNKNOWN",
    spaceoneCode: first.extensions?.spaceoneCode ?? null,
    message: first.message,
  };
}

function jobEntries() {
  return Object.keys(client.cache.extract()).filter((key) => key.startsWith("Job:")).length;
}

async function main() {
  const { data: newest } = await client.query({ query: NEWEST_JOBS, variables: { domainId } });
  const { connection, pagesRead } = await allFailedJobs(Number(pageSize));
  const failed = connection.edges.map((edge) => edge.node);

  const entriesBefore = jobEntries();
  const [latest] = newest.jobs.results;
  const { data: refetched } = await client.query({
    query: JOB_BY_ID, variables: { id: latest.id }, fetchPolicy: "network-only",
  });

  let rejectedExample = null;
  try {
    await client.query({ query: MISTAKEN, variables: { domainId } });
  } catch (error) {
    rejectedExample = rejection(error);
  }

  const errorsByCode = {};
  for (const job of failed) {
    for (const { errorCode } of job.errors) errorsByCode[errorCode] = (errorsByCode[errorCode] ?? 0) + 1;
  }
  const card = {
    domainId,
    totalJobs: newest.jobs.totalCount,
    newest: newest.jobs.results.map((job) => job.jobId),
    failedJobs: connection.totalCount,
    failedJobsRead: failed.length,
    pagesRead,
    newestFailed: failed.slice(0, 3).map((job) => job.jobId),
    errorsByCode: Object.fromEntries(Object.entries(errorsByCode).sort(([a], [b]) => (a < b ? -1 : 1))),
    refetched: {
      jobId: refetched.node.jobId,
      status: refetched.node.status,
      cacheId: client.cache.identify(refetched.node),
      sameEntry: client.cache.identify(refetched.node) === client.cache.identify(latest),
    },
    jobEntries: { beforeRefetch: entriesBefore, afterRefetch: jobEntries() },
    rejectedExample,
  };
  process.stdout.write(JSON.stringify(card, null, 2) + "\n");
}

main().catch((error) => {
  if (CombinedGraphQLErrors.is(error)) {
    const { code, message } = rejection(error);
    process.stderr.write(`${code}: ${message}\n`);
  } else {
    process.stderr.write(`${error.stack ?? error}\n`);
  }
  process.exit(1);
});
