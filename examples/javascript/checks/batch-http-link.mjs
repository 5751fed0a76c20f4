// Apollo Client with BatchHttpLink (default settings but for the endpoint): operations issued
// together go out as one HTTP request holding a JSON array, and each comes back with its own
// data or errors. Needs a gateway started with GATEWAY_MAX_BATCH_SIZE above 0.
//
//   node checks/batch-http-link.mjs http://127.0.0.1:8000/graphql domain-2c8e5a1f9d3b
import { ApolloClient, CombinedGraphQLErrors, InMemoryCache, gql } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";

const [url, domainId] = process.argv.slice(2);

const printed = [];
for (const level of ["warn", "error"]) {
  console[level] = (...args) => printed.push(`${level}: ${args.map(String).join(" ")}`);
}

let httpRequests = 0;
const bodies = [];
const countingFetch = (input, init) => {
  httpRequests += 1;
  bodies.push(JSON.parse(init.body));
  return fetch(input, init);
};

const client = new ApolloClient({
  link: new BatchHttpLink({ uri: url, fetch: countingFetch }),
  cache: new InMemoryCache(),
});

const COUNT = gql`
  query Count($domainId: String, $status: JobStatus) {
    jobs(domainId: $domainId, status: $status) { totalCount }
  }
`;
const NEWEST = gql`
  query Newest($domainId: String) {
    jobsConnection(domainId: $domainId, first: 1) { nodes { id jobId } }
  }
`;
// A mistake on purpose: not a global id of this API.
const MALFORMED = gql`
  query Malformed { node(id: "not-an-id") { id } }
`;

function outcome(promise) {
  return promise.then(
    ({ data }) => ({ data }),
    (error) => {
      if (!CombinedGraphQLErrors.is(error)) throw error;
      return { codes: error.errors.map((e) => e.extensions?.code) };
    },
  );
}

const [errors, successes, newest, malformed] = await Promise.all([
  outcome(client.query({ query: COUNT, variables: { domainId, status: "ERROR" } })),
  outcome(client.query({ query: COUNT, variables: { domainId, status: "SUCCESS" } })),
  outcome(client.query({ query: NEWEST, variables: { domainId } })),
  outcome(client.query({ query: MALFORMED })),
]);

process.stdout.write(JSON.stringify({
  httpRequests,
  operationsPerRequest: bodies.map((body) => (Array.isArray(body) ? body.length : 1)),
  errorCount: errors.data?.jobs.totalCount ?? errors,
  successCount: successes.data?.jobs.totalCount ?? successes,
  newest: newest.data?.jobsConnection.nodes[0] ?? newest,
  malformed,
  printed,
}, null, 2) + "\n");
