// Failed jobs of one domain from jobs-gateway, with graphql-request: a query with variables,
// paging through every failed job with jobsConnection (each page continues after the previous
// page's endCursor), and a GraphQL error read from its extensions.
//
//   npm ci && node failed-jobs.mjs http://127.0.0.1:8000/graphql domain-7f3a1c9e2b4d
//
// With GATEWAY_AUTH=jwt, put the token in JOBS_GATEWAY_TOKEN and leave the domain out.
import { ClientError, GraphQLClient, gql } from "graphql-request";

const [url = "http://127.0.0.1:8000/graphql", domainId = null, pageSize = "100"] =
  process.argv.slice(2);
const token = process.env.JOBS_GATEWAY_TOKEN;
const client = new GraphQLClient(url, {
  headers: token ? { Authorization: `Bearer ${token}` } : {},
});

const FAILED_JOBS = gql`
  query FailedJobs($domainId: String, $first: Int!, $after: String) {
    jobsConnection(domainId: $domainId, filter: { status: { eq: ERROR } }, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { jobId createdAt errors { errorCode } }
    }
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

/** Yields each page of failed jobs, newest first, with the total count. */
async function* failedJobs(first) {
  let after = null;
  for (;;) {
    const { jobsConnection: page } = await client.request(FAILED_JOBS, { domainId, first, after });
    yield page;
    if (!page.pageInfo.hasNextPage) return;
    after = page.pageInfo.endCursor;
  }
}

/** The first GraphQL error of a rejected request, as the frontend would show it. */
function rejection(error) {
  if (!(error instanceof ClientError)) throw error; // network failures and HTTP errors
  const [first] = error.response.errors ?? [{}];
  return {
    code: first.extensions?.code ?? "UNKNOWN",
    spaceoneCode: first.extensions?.spaceoneCode ?? null,
    message: first.message,
  };
}

async function main() {
  let failed = 0;
  let pagesRead = 0;
  let newest = [];
  const errorsByCode = {};
  for await (const page of failedJobs(Number(pageSize))) {
    failed = page.totalCount;
    pagesRead += 1;
    if (newest.length === 0) newest = page.nodes.slice(0, 3).map((job) => job.jobId);
    for (const job of page.nodes) {
      for (const { errorCode } of job.errors) errorsByCode[errorCode] = (errorsByCode[errorCode] ?? 0) + 1;
    }
  }
  let rejectedExample = null;
  try {
    await client.request(MISTAKEN, { domainId });
  } catch (error) {
    rejectedExample = rejection(error);
  }
  const sortedCodes = Object.fromEntries(Object.entries(errorsByCode).sort());
  console.log(JSON.stringify(
    { domainId, failedJobs: failed, pagesRead, newest, errorsByCode: sortedCodes, rejectedExample },
    null, 2,
  ));
}

main().catch((error) => {
  if (error instanceof ClientError) {
    const { code, message } = rejection(error);
    console.error(`the gateway refused the request: ${code}: ${message}`);
    process.exit(1);
  }
  console.error(`cannot reach the gateway at ${url}: ${error.message}`);
  process.exit(2);
});
