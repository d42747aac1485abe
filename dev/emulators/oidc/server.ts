import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { handleInteraction, type InteractionAction, type InteractionContext } from "./interactions";

// oidc-provider's interaction uids are nanoids.
const INTERACTION_PATH = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/;

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Our interaction pages, and oidc-provider (discovery, /auth, /token, /jwks, /me, …) for everything else. */
export function routes(providerCallback: RequestListener, context: InteractionContext): RequestListener {
  return (req, res) => {
    const route = interactionRoute(req.method, (req.url ?? "/").split("?")[0]!);
    if (!route) return providerCallback(req, res);
    void handleInteraction(context, route.action, route.uid, req, res);
  };
}

function interactionRoute(method: string | undefined, pathname: string) {
  const [, uid, step] = INTERACTION_PATH.exec(pathname) ?? [];
  if (!uid) return undefined;
  if (method === "GET" && !step) return { action: "show" as const, uid };
  if (method === "POST" && step) return { action: step as InteractionAction, uid };
  return undefined;
}

/** Listens before it handles anything: the issuer, and so the provider, needs the port first. */
export async function listen(port: number, host: string): Promise<RunningServer> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actualPort } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // fetch keeps connections alive; without this close() waits for them to idle out.
        server.closeAllConnections();
      }),
  };
}
