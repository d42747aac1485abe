// The local host as `npm run host` runs it, with one difference the fault suite needs: a short queue
// lease. The Functions host leases a message for 10 minutes; after a crash (SIGKILL) the messages it
// held come back only when the lease runs out, so the soak shortens it to see recovery in seconds.
// Started by test/support/soak-host.ts; prints the same "listening" line as dev/host-cli.ts.
import { join, resolve } from "node:path";
import { buildIfStale } from "../dev/host/build-if-stale";
import { startLocalHost } from "../dev/host/local-host";
import { describeError } from "../dev/host/logger";

const ROOT = resolve(__dirname, "..");

async function main(): Promise<void> {
  await buildIfStale(ROOT, console.log);
  const host = await startLocalHost({
    appPath: join(ROOT, "dist", "index.js"),
    port: Number(process.env.PORT ?? 0),
    hostJsonPath: join(ROOT, "host.json"),
    localSettingsPath: false,
    queueLeaseSeconds: Number(process.env.SOAK_QUEUE_LEASE_SECONDS ?? 20),
  });
  console.log(`Triage Relay host listening on http://localhost:${host.port}`);
  process.once("SIGTERM", () => {
    host.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((error: unknown) => {
  console.error(`Triage Relay host failed to start: ${describeError(error)}`);
  process.exit(1);
});
