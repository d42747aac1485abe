import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { SlackInstallations } from "../../shared/storage/slack-installations";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { logsOnceLogged } from "../support/host-process";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ slackRateLimits: true });
});
afterAll(async () => {
  await stack?.stop();
});

const installedWorkspace = (name: string) => installSlackWorkspace(stack, name);

async function settled(alertId: string, timeoutMs = 30_000) {
  return waitFor(
    async () => (await new DeliveryRepository(stack.storage).listForAlert(alertId)).find((d) => d.state === "sent" || d.state === "dead"),
    { timeoutMs },
  );
}

describe("Slack delivery under Slack's limits and errors", () => {
  it("30 alerts for 30 issues to one channel: 30 messages, none lost, none duplicated", async () => {
    const teamId = await installedWorkspace("Storm");
    const channel = stack.slack.addChannel(teamId, { name: "storm" }).id;
    for (let n = 0; n < 30; n++) {
      await sendBase64Json(
        stack.azurite.connectionString,
        "alerts",
        anAlert({
          alertId: `storm-${n}`,
          issue: { id: `storm-issue-${n}`, title: `TypeError number ${n}` },
          targets: [{ provider: "slack", teamId, channel }],
        }),
      );
    }
    await waitFor(() => (stack.slack.messages(channel).length >= 30 ? true : undefined), { timeoutMs: 90_000, intervalMs: 500 });
    // Give any straggling duplicate a chance to show up before counting.
    await waitFor(
      async () => {
        const rows = await Promise.all(Array.from({ length: 30 }, (_, n) => new DeliveryRepository(stack.storage).listForAlert(`storm-${n}`)));
        return rows.every((r) => r[0]?.state === "sent") ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const messages = stack.slack.messages(channel);
    expect(messages).toHaveLength(30);
    const titles = new Set(messages.map((m) => /TypeError number (\d+)/.exec(m.text)?.[1]));
    expect(titles.size).toBe(30);
    const posts = stack.slack.callsTo("chat.postMessage").filter((c) => c.params.channel === channel);
    // Every 429 was answered with a delay and a retry, never by dropping the card.
    expect(posts.filter((c) => c.ok)).toHaveLength(30);
  }, 150_000);

  it("channel_not_found: the target is dead after one call", async () => {
    const teamId = await installedWorkspace("Broken");
    stack.slack.injectError({ method: "chat.postMessage", channel: "C0GONE0001", error: "channel_not_found", times: 5 });
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "gone", issue: { id: "gone-issue" }, targets: [{ provider: "slack", teamId, channel: "C0GONE0001" }] }),
    );
    expect(await settled("gone")).toMatchObject({ state: "dead", reason: "channel_not_found", attempts: 1 });
    expect(stack.slack.callsTo("chat.postMessage").filter((c) => c.params.channel === "C0GONE0001")).toHaveLength(1);
  });

  it("tokens_revoked: the workspace's installation is off and no further calls are made for it", async () => {
    const teamId = await installedWorkspace("Revoked");
    const channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
    const event = stack.slack.eventCallback({ teamId, event: { type: "tokens_revoked", tokens: { bot: ["B0123"] } } });
    expect((await stack.slack.sendEvent(`${stack.api}/slack/events`, event)).status).toBe(200);
    expect(await new SlackInstallations(stack.storage).get(teamId)).toMatchObject({ active: false, inactiveReason: "tokens revoked" });

    const callsBefore = stack.slack.calls.filter((c) => c.teamId === teamId).length;
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "revoked", issue: { id: "revoked-issue" }, targets: [{ provider: "slack", teamId, channel }] }),
    );
    expect(await settled("revoked")).toMatchObject({ state: "dead", reason: expect.stringMatching(/installation inactive/) });
    expect(stack.slack.calls.filter((c) => c.teamId === teamId)).toHaveLength(callsBefore);
  });

  it("the app removed from a channel: the next card there is dead without a chat.postMessage; invited back, cards flow again", async () => {
    const teamId = await installedWorkspace("Removed");
    const channel = stack.slack.addChannel(teamId, { name: "alerts", botIsMember: true }).id;
    const left = stack.slack.eventCallback({ teamId, event: { type: "channel_left", channel, actor_id: "U0SOMEONE1" } });
    expect((await stack.slack.sendEvent(`${stack.api}/slack/events`, left)).status).toBe(200);

    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "removed-1", issue: { id: "removed-issue-1" }, targets: [{ provider: "slack", teamId, channel }] }),
    );
    expect(await settled("removed-1")).toMatchObject({ state: "dead", reason: expect.stringMatching(/removed from the channel/) });
    expect(stack.slack.callsTo("chat.postMessage").filter((c) => c.params.channel === channel)).toHaveLength(0);

    const botUserId = (await new SlackInstallations(stack.storage).get(teamId))!.botUserId!;
    const joined = stack.slack.eventCallback({ teamId, event: { type: "member_joined_channel", user: botUserId, channel, channel_type: "C" } });
    expect((await stack.slack.sendEvent(`${stack.api}/slack/events`, joined)).status).toBe(200);
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "removed-2", issue: { id: "removed-issue-2" }, targets: [{ provider: "slack", teamId, channel }] }),
    );
    expect(await settled("removed-2")).toMatchObject({ state: "sent" });
    expect(stack.slack.callsTo("chat.postMessage").filter((c) => c.params.channel === channel && c.ok)).toHaveLength(1);
  });

  it("an app_uninstalled Slack retries after the workspace installed the app again leaves the new install on", async () => {
    const teamId = await installedWorkspace("Reinstalled");
    const minutesAgo = Math.floor(Date.now() / 1000) - 5 * 60;
    const late = stack.slack.eventCallback({ teamId, event: { type: "app_uninstalled" }, eventTime: minutesAgo });
    expect((await stack.slack.sendEvent(`${stack.api}/slack/events`, late, { retryNum: 2, retryReason: "http_error" })).status).toBe(200);
    expect(await new SlackInstallations(stack.storage).get(teamId)).toMatchObject({ active: true });
  });

  it("a retried event (same event_id) is handled once", async () => {
    const teamId = await installedWorkspace("Retried");
    const event = stack.slack.eventCallback({ teamId, event: { type: "app_uninstalled" } });
    expect((await stack.slack.sendEvent(`${stack.api}/slack/events`, event)).status).toBe(200);
    expect((await stack.slack.sendEvent(`${stack.api}/slack/events`, event, { retryNum: 1, retryReason: "http_timeout" })).status).toBe(200);
    await logsOnceLogged(stack.host, "already handled (retry)");
    expect(stack.host.logs().filter((line) => line.includes("already handled (retry)"))).toHaveLength(1);
    expect(await new SlackInstallations(stack.storage).get(teamId)).toMatchObject({ active: false, inactiveReason: "app uninstalled" });
  });
});
