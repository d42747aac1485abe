// Free TCP ports on 127.0.0.1, for servers the tests start on ports they choose.
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";

// Above the well-known dev ports (Azurite 10000-10002, the Functions host 7071…).
const LOWEST_CHOSEN_PORT = 20_000;
/** Room left below the ephemeral range for callers that take a few ports in a row. */
const PORTS_IN_A_ROW = 5;

/**
 * A port nothing listens on right now, chosen below the OS's ephemeral range. A port the OS hands out for
 * `listen(0)` comes from that range, which is also where every outgoing connection's local port comes from:
 * between choosing it and the host's process binding it, a connection to Azurite or an emulator could take it
 * (a CI run failed with EADDRINUSE that way). Below the range only another chooser can take it.
 */
export async function freePort(): Promise<number> {
  const [lowestEphemeral] = ephemeralPortRange();
  const highest = lowestEphemeral - PORTS_IN_A_ROW;
  if (highest <= LOWEST_CHOSEN_PORT) return portFromTheOs();
  for (let tries = 0; tries < 50; tries++) {
    const port = LOWEST_CHOSEN_PORT + Math.floor(Math.random() * (highest - LOWEST_CHOSEN_PORT));
    if (await isFree(port)) return port;
  }
  return portFromTheOs();
}

/** The OS's range for ephemeral ports (Linux); the IANA range where it cannot be read. */
export function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high)) return [low, high];
  } catch {
    // not Linux
  }
  return [49_152, 65_535];
}

function portFromTheOs(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
      .once("error", fail)
      .listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => done(port));
      });
  });
}

export const isFree = (port: number) =>
  new Promise<boolean>((done) => {
    const server = createServer()
      .once("error", () => done(false))
      .listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
