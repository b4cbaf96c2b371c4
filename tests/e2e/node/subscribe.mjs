// Subscribe to `events(after)` with the npm graphql-ws client (graphql-transport-ws)
// and print one JSON line per event until `count` arrived (or an error line).
// Usage: node subscribe.mjs URL AFTER COUNT [TOKEN]
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, after, count, token] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  retryAttempts: 0,
});

let seen = 0;
const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: "timeout", seen }));
  process.exit(2);
}, 20000);

client.subscribe(
  { query: `subscription($after: Int) { events(after: $after) { sequence type } }`, variables: { after: Number(after) } },
  {
    next: (message) => {
      console.log(JSON.stringify(message));
      seen += 1;
      if (seen >= Number(count)) {
        clearTimeout(timer);
        client.dispose();
        process.exit(0);
      }
    },
    error: (error) => {
      const detail = error instanceof Error ? error.message : (error.reason ?? JSON.stringify(error));
      console.log(JSON.stringify({ error: String(detail), code: error.code }));
      clearTimeout(timer);
      process.exit(1);
    },
    complete: () => {},
  },
);
