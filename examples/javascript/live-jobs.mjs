// Follows live job changes of one domain from jobs-gateway, over WebSocket (graphql-ws) and
// over Server-Sent Events (graphql-sse), and prints the first events of each as JSON lines.
//
//   node live-jobs.mjs [url] [domainId] [events]
//   node live-jobs.mjs http://127.0.0.1:8000/graphql domain-7f3a1c9e2b4d 3
//
// With GATEWAY_AUTH=jwt, pass the token in JOBS_GATEWAY_TOKEN (sent in connection_init and as
// the Authorization header of the SSE request); the domain is then the token's.
import { createClient as createWsClient } from "graphql-ws";
import { createClient as createSseClient } from "graphql-sse";
import WebSocket from "ws";

const [url = "http://127.0.0.1:8000/graphql", domainId = "domain-7f3a1c9e2b4d", wanted = "3"] =
  process.argv.slice(2);
const token = process.env.JOBS_GATEWAY_TOKEN;
const authorization = token ? { Authorization: `Bearer ${token}` } : {};
const query = `subscription Changes($domainId: String) {
  jobsChanged(domainId: $domainId) { kind jobId cursor job { jobId domainId status remainedTasks } }
}`;

async function firstEvents(client, transport, count) {
  const events = [];
  const iterator = client.iterate({ query, variables: { domainId: token ? null : domainId } });
  for await (const result of iterator) {
    if (result.errors) throw new Error(`${result.errors[0].extensions?.code}: ${result.errors[0].message}`);
    events.push({ transport, ...result.data.jobsChanged });
    if (events.length >= count) break;  // ends the subscription
  }
  return events;
}

const ws = createWsClient({
  url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: authorization,
});
const sse = createSseClient({ url, headers: authorization });
try {
  const [overWs, overSse] = await Promise.all([
    firstEvents(ws, "graphql-ws", Number(wanted)),
    firstEvents(sse, "graphql-sse", Number(wanted)),
  ]);
  for (const event of [...overWs, ...overSse]) console.log(JSON.stringify(event));
} catch (error) {
  console.error(error.message ?? String(error));
  process.exitCode = 1;
} finally {
  await ws.dispose();
  sse.dispose();
}
