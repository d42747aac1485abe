import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ephemeralPortRange, freePort } from "../support/ports";

describe("the port a test's host is started on", () => {
  it("is outside the range outgoing connections take their local port from, so none can take it before the host binds it", async () => {
    const [lowestEphemeral] = ephemeralPortRange();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) expect(port).toBeLessThan(lowestEphemeral);
  });

  it("is one nothing listens on", async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((listening, fail) => server.once("error", fail).listen(port, "127.0.0.1", listening));
    await new Promise((closed) => server.close(closed));
  });
});
