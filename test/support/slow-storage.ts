// A TCP proxy in front of Azurite's table and queue endpoints that holds every request for a while:
// storage as slow as a busy account, for the app under test. Responses pass through at once.
import { createServer, connect, type Server, type Socket } from "node:net";
import type { Azurite } from "./azurite";

export interface SlowStorage {
  /** Azurite's connection string with the table and queue endpoints pointing at the proxy. */
  connectionString: string;
  /** How long each request (each chunk the client sends) is held before it reaches Azurite. */
  setDelay(ms: number): void;
  stop(): Promise<void>;
}

export async function startSlowStorage(azurite: Azurite, delayMs = 0): Promise<SlowStorage> {
  let delay = delayMs;
  const sockets = new Set<Socket>();
  const proxies = await Promise.all(
    [azurite.tableEndpoint, azurite.queueEndpoint].map((endpoint) => proxyTo(new URL(endpoint), () => delay, sockets)),
  );
  const [table, queue] = proxies.map((p) => p.endpoint);
  const connectionString = azurite.connectionString
    .replace(`TableEndpoint=${azurite.tableEndpoint}`, `TableEndpoint=${table}`)
    .replace(`QueueEndpoint=${azurite.queueEndpoint}`, `QueueEndpoint=${queue}`);
  return {
    connectionString,
    setDelay: (ms) => {
      delay = ms;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(proxies.map((p) => new Promise<void>((done) => p.server.close(() => done()))));
    },
  };
}

async function proxyTo(upstream: URL, delay: () => number, sockets: Set<Socket>): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((client) => {
    const target = connect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(target);
    // Chunks keep their order: each is released no earlier than the one before it.
    let lastRelease = 0;
    client.on("data", (chunk) => {
      const releaseAt = Math.max(Date.now() + delay(), lastRelease);
      lastRelease = releaseAt;
      setTimeout(() => {
        if (!target.destroyed) target.write(chunk);
      }, releaseAt - Date.now());
    });
    target.pipe(client);
    const close = () => {
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    client.on("close", close).on("error", close);
    target.on("close", close).on("error", close);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { server, endpoint: `http://127.0.0.1:${port}${upstream.pathname}` };
}
