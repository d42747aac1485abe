// With several instances live, Slack card posts book their channel's slots on one schedule in storage (issue 11,
// item 3; docs/pacing.md, "Several instances"). Budgets split between instances left a storm's last posts at one
// instance's half pace once the other had posted its own (the 2-host fan-out's last 40 s at half pace): here an
// instance holding every post of a channel gets the channel's whole pace, two instances never get one slot, and a
// wave of bookings costs a read and a write, not two requests per post. Counted through a proxy in front of Azurite.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACING_SHARE, pacedWindows, SLACK_CHANNEL_LIMITS } from "../../shared/delivery/pacing";
import { sendSlackCard, type SlackSendOutcome } from "../../shared/delivery/slack-sender";
import { ChannelSchedule } from "../../shared/storage/channel-schedule";
import { TABLES } from "../../shared/storage/clients";
import { IdentityRepository } from "../../shared/storage/identities";
import { instances } from "../../shared/storage/instances";
import { anIssue } from "../fixtures/issues";
import { startEmulatedApp, type CountedEmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace } from "../support/installations";

let app: CountedEmulatedApp;
/** The app's whole pace in one channel: 90 % of Slack's one post a second. */
const WHOLE_PACE_MS = pacedWindows(SLACK_CHANNEL_LIMITS, PACING_SHARE)[0]!.ms;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "shared-channel-schedule",
    enforceRateLimits: true,
    countRequests: true,
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c0b1", tenantId: "72f988bf-0000-4000-8000-000000000011" },
  });
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

/** Another instance, live: its heartbeat row, as that process would write it. */
async function anotherInstanceBeats(): Promise<void> {
  const table = await app.storage.table(TABLES.instances);
  await table.upsertEntity({ partitionKey: "pacing", rowKey: "the-other-instance", seenAt: new Date().toISOString() }, "Replace");
}

describe("Slack card posts with two instances live", () => {
  it("an instance holding all of a channel's posts promises them slots at the app's whole pace, not at its half share", async () => {
    await anotherInstanceBeats();
    expect(await instances(app.storage).current()).toBe(2);
    const workspace = app.slack.addWorkspace({ name: "Two instances" });
    await installInSlackWorkspace(app.storage, workspace);
    const channel = app.slack.addChannel(workspace.teamId, { name: "storm" }).id;
    const sender = { ...app.context({ coalesceSeconds: 5 }), identities: new IdentityRepository(app.storage) };
    const post = (n: number): Promise<SlackSendOutcome> =>
      sendSlackCard(
        sender,
        anIssue({ id: `TWO-${n}`, version: 4 }),
        { provider: "slack", teamId: workspace.teamId, channel },
        `slack:${workspace.teamId}:${channel}`,
        1,
        {
          deliveryId: `two-${n}`,
          settlesInMs: 0,
        },
      );

    const asked = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, n) => post(n)));
    const sent = outcomes.filter((outcome) => outcome.kind === "sent");
    const promised = outcomes.flatMap((outcome) => (outcome.kind === "retry" && outcome.slotAt ? [outcome.slotAt] : [])).sort((a, b) => a - b);
    expect(sent.length + promised.length).toBe(12);
    expect(promised.length).toBeGreaterThan(6);
    for (const outcome of outcomes.filter((o) => o.kind === "retry")) expect(outcome).toMatchObject({ throttled: true });
    // Twelve posts at the whole pace end about eleven spacings out; at half the pace they would end 22 out.
    const gaps = promised.slice(1).map((at, i) => at - promised[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(WHOLE_PACE_MS);
    expect(promised.at(-1)! - asked).toBeLessThan(13 * WHOLE_PACE_MS);
  });

  it("two instances booking one channel at once never get the same slot, and a wave of bookings costs a read and a write", async () => {
    const workspace = app.slack.addWorkspace({ name: "Wave" });
    const channels = Array.from({ length: 10 }, (_, n) => app.slack.addChannel(workspace.teamId, { name: `wave-${n}` }).id);
    const spacing = () => WHOLE_PACE_MS;
    const one = new ChannelSchedule(app.storage, spacing);
    const other = new ChannelSchedule(app.storage, spacing);
    await app.storage.table(TABLES.instances);

    // One delivery's posts to ten channels, asked for together: one read and one transaction. Idle channels: now.
    const mark = app.proxy.mark();
    const asked = Date.now();
    const first = await Promise.all(channels.map((channel) => one.book(workspace.teamId, channel)));
    expect(app.proxy.countSince(mark)).toBe(2);
    for (const at of first) expect(at - asked).toBeLessThan(1000);

    // Both instances book ten slots in each channel at the same moment.
    const booked = await Promise.all(
      [one, other].flatMap((schedule) =>
        channels.flatMap((channel) => Array.from({ length: 10 }, () => schedule.book(workspace.teamId, channel).then((at) => ({ channel, at })))),
      ),
    );
    for (const channel of channels) {
      const slots = booked.filter((slot) => slot.channel === channel).map((slot) => slot.at);
      slots.push(first[channels.indexOf(channel)]!);
      slots.sort((a, b) => a - b);
      expect(new Set(slots).size).toBe(21);
      expect(Math.min(...slots.slice(1).map((at, i) => at - slots[i]!))).toBeGreaterThanOrEqual(WHOLE_PACE_MS);
    }
    // 200 slots: a handful of transactions and reads (one instance's stale view makes it read again), not 400 requests.
    expect(app.proxy.countSince(mark)).toBeLessThan(20);
  });

  it("a booking storage refuses doesn't fail the post: the instance paces the channel on its own share", async () => {
    await anotherInstanceBeats();
    const workspace = app.slack.addWorkspace({ name: "Storage outage" });
    await installInSlackWorkspace(app.storage, workspace);
    const channel = app.slack.addChannel(workspace.teamId, { name: "outage" }).id;
    const sender = { ...app.context({ coalesceSeconds: 5 }), identities: new IdentityRepository(app.storage) };
    app.proxy.refuse(({ service, url }) => (service === "table" && (url.includes("slack-slots") || url.includes("$batch")) ? 503 : undefined));
    try {
      const outcome = await sendSlackCard(
        sender,
        anIssue({ id: "OUTAGE-1", version: 2 }),
        { provider: "slack", teamId: workspace.teamId, channel },
        `slack:${workspace.teamId}:${channel}`,
        1,
        { deliveryId: "outage-1", settlesInMs: 0 },
      );
      expect(outcome.kind).toBe("sent");
    } finally {
      app.proxy.refuse(undefined);
    }
    expect(app.slack.calls.filter((call) => call.method === "chat.postMessage" && call.params.channel === channel)).toHaveLength(1);
  });
});
