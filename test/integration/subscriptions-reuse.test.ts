// An alert storm reads a project's subscriptions once every SUBSCRIPTIONS_REUSE_MS per instance, not once per
// alert (issue 11: the intake's storage per alert). The query by project reads across every conversation's
// partition, so on Azure it grows with the table. A subscription changed on this instance counts for its very next
// alert; one changed on another instance, within the reuse window. Counted through a proxy in front of Azurite.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlertTarget } from "../../shared/domain/alert";
import { StorageClients } from "../../shared/storage/clients";
import { SUBSCRIPTIONS_REUSE_MS, subscribe, unsubscribe } from "../../shared/storage/subscriptions";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { anAlert } from "../fixtures/issues";
import { startEmulatedApp, type CountedEmulatedApp } from "../support/emulated-app";

let app: CountedEmulatedApp;
/** The app's storage, through the counting proxy. */
let storage: StorageClients;
/** Another instance's storage clients: its writes are not this instance's. */
let elsewhere: StorageClients;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "subscriptions-reuse",
    countRequests: true,
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d0b2", tenantId: "72f988bf-0000-4000-8000-000000000012" },
  });
  storage = app.storage;
  elsewhere = app.direct;
});
afterAll(async () => {
  await app?.stop();
});

const conversation = (n: number): AlertTarget => ({ provider: "msteams", conversationId: `19:reuse-${n}@thread.tacv2` });
const subscription = (n: number, project: string) => ({
  conversationKey: `msteams:19:reuse-${n}@thread.tacv2`,
  project,
  minLevel: "info" as const,
  target: conversation(n),
});

let alerts = 0;
/** A new issue's alert in the project: how many conversations its deliveries were planned for. */
async function alertIn(project: string): Promise<number> {
  alerts++;
  const alert = anAlert({ alertId: `reuse-${alerts}`, issue: { id: `REUSE-${alerts}`, project } });
  const result = await takeAlert(storage, alert, JSON.stringify(alert));
  if (result.kind !== "accepted") throw new Error(`alert not accepted: ${result.kind}`);
  return result.deliveries;
}

const subscriptionReads = (mark: number) =>
  app.proxy.countSince(mark, (request) => request.service === "table" && request.resource === "subscriptions" && request.method === "GET");

describe("a project's subscriptions during an alert storm", () => {
  it("are read once for the alerts of a few seconds, and a subscription made on this instance counts for the next alert", async () => {
    await subscribe(storage, subscription(1, "storm"));
    const mark = app.proxy.mark();
    const planned = [];
    for (let n = 0; n < 8; n++) planned.push(await alertIn("storm"));
    expect(planned).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(subscriptionReads(mark)).toBe(1);

    await subscribe(storage, subscription(2, "storm"));
    expect(await alertIn("storm")).toBe(2);
    await unsubscribe(storage, subscription(1, "storm").conversationKey, "storm");
    expect(await alertIn("storm")).toBe(1);
  });

  it("a subscription made on another instance counts for the alerts taken SUBSCRIPTIONS_REUSE_MS later", async () => {
    await subscribe(storage, subscription(3, "elsewhere"));
    expect(await alertIn("elsewhere")).toBe(1);
    await subscribe(elsewhere, subscription(4, "elsewhere"));
    await new Promise((resolve) => setTimeout(resolve, SUBSCRIPTIONS_REUSE_MS));
    expect(await alertIn("elsewhere")).toBe(2);
  });
});
