// Free TCP ports on 127.0.0.1, for servers the tests start on ports they choose.
import { createServer, type AddressInfo } from "node:net";

/** A port nothing listens on right now (the OS picks it; it is free until someone else takes it). */
export function freePort(): Promise<number> {
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
