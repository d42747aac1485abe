// Several instances pace Slack posts per channel at a share each (docs/pacing.md). A card post the pacing defers is
// promised the slot it is told to come back for, held on the deferring instance's budget and carried in the retry:
// whichever instance takes the retry posts in that slot. Without it, a retry that came back to the other instance
// went to the back of that instance's schedule and its slot went unused (2 hosts posted at 4.8/s, 1 host 8.3/s).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendSlackCard, type SlackSendOutcome } from "../../shared/delivery/slack-sender";
import { readDeliveryMessage } from "../../shared/storage/deliveries";
import { IdentityRepository } from "../../shared/storage/identities";
import { anIssue } from "../fixtures/issues";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace } from "../support/installations";

let app: EmulatedApp;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "promised-slots",
    enforceRateLimits: true,
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c0a8", tenantId: "72f988bf-0000-4000-8000-000000000008" },
  });
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

describe("a deferred Slack card post keeps the slot it was promised", () => {
  it("the retry carrying its slot posts in it, ahead of later posts; one come back too late asks again", async () => {
    const workspace = app.slack.addWorkspace({ name: "Promises" });
    await installInSlackWorkspace(app.storage, workspace);
    const sender = { ...app.context({ coalesceSeconds: 5 }), identities: new IdentityRepository(app.storage) };
    const channel = app.slack.addChannel(workspace.teamId, { name: "busy" }).id;
    const target = { provider: "slack" as const, teamId: workspace.teamId, channel };
    const post = (n: number, slotAt?: number): Promise<SlackSendOutcome> =>
      sendSlackCard(sender, anIssue({ id: `PROMISE-${n}` }), target, `slack:${workspace.teamId}:${channel}`, 1, {
        deliveryId: `promise-${n}`,
        slotAt,
      });

    // About one post a second: the first two go (the second after a short wait), the next are deferred.
    expect((await post(1)).kind).toBe("sent");
    const [second, third, fourth] = await Promise.all([post(2), post(3), post(4)]);
    expect(second!.kind).toBe("sent");
    const promised = [third!, fourth!].map((outcome) => {
      expect(outcome).toMatchObject({ kind: "retry", throttled: true, slotAt: expect.any(Number) });
      return (outcome as { slotAt: number }).slotAt;
    });
    expect(promised[1]! - promised[0]!).toBeGreaterThanOrEqual(1000);
    // A post arriving shortly before the first promised slot would have fitted in it (within the 2 s an instance
    // waits in process): it queues behind both promised slots instead, holding one of its own.
    await sleep(promised[0]! - 1500 - Date.now());
    const later = await post(5);
    expect(later).toMatchObject({ kind: "retry", throttled: true });
    expect((later as { slotAt: number }).slotAt).toBeGreaterThan(promised[1]!);

    // The third comes back at its slot (to this instance or another): it posts, though this instance's own
    // schedule has no room before the fifth's slot.
    await sleep(promised[0]! - Date.now());
    const posts = () => app.slack.calls.filter((call) => call.method === "chat.postMessage" && call.ok).length;
    const before = posts();
    expect((await post(3, promised[0])).kind).toBe("sent");
    expect(posts()).toBe(before + 1);

    // A promise come back long after its slot lapsed: it asks again, and waits behind the slots held now.
    expect(await post(6, Date.now() - 10_000)).toMatchObject({ kind: "retry", throttled: true });
  });

  it("the promised slot travels in the deliveries message's target, and a message without one still reads", () => {
    const target = { provider: "slack", teamId: "T0001", channel: "C0001" };
    const withSlot = readDeliveryMessage({
      alertId: "a1",
      issueId: "i1",
      targets: [{ targetKey: "slack:T0001:C0001", target, slotAt: 1796572588374 }],
    });
    expect(withSlot).toMatchObject({ ok: true, batch: { targets: [{ targetKey: "slack:T0001:C0001", slotAt: 1796572588374 }] } });
    const without = readDeliveryMessage({ alertId: "a1", issueId: "i1", targets: [{ targetKey: "slack:T0001:C0001", target }] });
    expect(without.ok && without.batch.targets[0]).toEqual({ targetKey: "slack:T0001:C0001", target });
  });
});
