// Apollo Client's InMemoryCache and urql's Graphcache, both with their default settings, read
// the same jobs through two different queries; prints, for each, what its cache holds and
// every warning or error the libraries printed.
//
//   node checks/normalised-caches.mjs http://127.0.0.1:8000/graphql domain-2c8e5a1f9d3b 10
const [url, domainId, size = "10"] = process.argv.slice(2);
const first = Number(size);

const printed = [];
for (const level of ["warn", "error"]) {
  console[level] = (...args) => printed.push(`${level}: ${args.map(String).join(" ")}`);
}

const { ApolloClient, HttpLink, InMemoryCache, gql } = await import("@apollo/client");
const { Client, fetchExchange } = await import("@urql/core");
const { cacheExchange } = await import("@urql/exchange-graphcache");

// Two different queries over the same jobs: the newest `first` jobs of the domain.
const LISTING = gql`
  query Listing($domainId: String, $first: Int!) {
    jobs(domainId: $domainId, query: { page: { limit: $first }, sort: { key: "created_at", desc: true } }) {
      totalCount
      results { id jobId status controllerInfo { id controllerId name } }
    }
  }
`;
const PAGE = gql`
  query Page($domainId: String, $first: Int!) {
    jobsConnection(domainId: $domainId, first: $first) {
      edges { cursor node { id jobId totalTasks controllerInfo { id provider } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
const MERGED = gql`
  query Merged($domainId: String, $first: Int!) {
    jobsConnection(domainId: $domainId, first: $first) {
      edges { cursor node { id jobId totalTasks remainedTasks controllerInfo { id provider } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
const BY_ID = gql`
  query ById($ids: [ID!]!) {
    nodes(ids: $ids) { id ... on Job { jobId remainedTasks } }
  }
`;

function entriesOf(keys) {
  return {
    jobs: keys.filter((key) => key.startsWith("Job:")).length,
    controllers: keys.filter((key) => key.startsWith("ControllerInfo:")).length,
  };
}

async function apollo() {
  const client = new ApolloClient({ link: new HttpLink({ uri: url }), cache: new InMemoryCache() });
  const listed = await client.query({ query: LISTING, variables: { domainId, first } });
  const paged = await client.query({ query: PAGE, variables: { domainId, first } });
  const jobs = listed.data.jobs.results;
  const nodes = paged.data.jobsConnection.edges.map((edge) => edge.node);
  const stored = client.cache.extract();
  const root = stored.ROOT_QUERY;
  const listingRefs = Object.entries(root).find(([key]) => key.startsWith("jobs("))[1].results
    .map((ref) => ref.__ref);
  const pageRefs = Object.entries(root).find(([key]) => key.startsWith("jobsConnection("))[1].edges
    .map((edge) => edge.node.__ref);
  // One entry holds the fields of both queries.
  const merged = client.cache.readFragment({
    id: client.cache.identify(jobs[0]),
    fragment: gql`fragment Both on Job { jobId status totalTasks }`,
  });
  return {
    entries: entriesOf(Object.keys(stored)),
    listingJobIds: jobs.map((job) => job.jobId),
    pageJobIds: nodes.map((job) => job.jobId),
    sharedEntries: listingRefs.filter((ref) => pageRefs.includes(ref)).length,
    identified: jobs.every((job) => client.cache.identify(job) === `Job:${job.id}`),
    merged,
  };
}

async function urql() {
  const client = new Client({ url, exchanges: [cacheExchange(), fetchExchange] });
  const paged = await client.query(PAGE, { domainId, first }).toPromise();
  if (paged.error) throw paged.error;
  const nodes = paged.data.jobsConnection.edges.map((edge) => edge.node);
  const ids = nodes.map((job) => job.id);
  const byId = await client.query(BY_ID, { ids }).toPromise();
  if (byId.error) throw byId.error;
  // The page again, with a field only the second query read (remainedTasks), from the cache
  // alone: a hit means each job is one entry holding what both queries wrote.
  const merged = await client.query(MERGED, { domainId, first }, { requestPolicy: "cache-only" })
    .toPromise();
  return {
    pageJobIds: nodes.map((job) => job.jobId),
    byIdJobIds: byId.data.nodes.map((job) => job.jobId),
    mergedOutcome: merged.operation.context.meta?.cacheOutcome ?? null,
    merged: merged.data?.jobsConnection.edges.map(({ node }) => ({
      jobId: node.jobId, totalTasks: node.totalTasks, remainedTasks: node.remainedTasks,
    })) ?? null,
  };
}

const report = { apollo: await apollo(), urql: await urql() };
report.printed = printed;
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
