// Issue 14: a subscription stored before today's id grammar (e.g. the Playground's placeholder `team-id`)
// used to send every alert of its project to deliveries-poison, forever, with a stack trace. Now such a
// delivery is recorded dead with the reason, and the valid targets of the same alert are still served.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlertTarget } from "../../shared/domain/alert";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { subscribe } from "../../shared/storage/subscriptions";
import { anAlert } from "../fixtures/issues";
import { messageCount, sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { logsOnceLogged } from "../support/host-process";
import { startStack, type Stack } from "./stack";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe("a delivery whose stored target no platform accepts", () => {
  it("is recorded dead with the reason, not poisoned; the alert's other targets still get their card", async () => {
    const user = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
    const team = stack.teams.addTeam({ name: "Checkout", members: [user] });
    expect((await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: user }))).status).toBe(200);
    // As an older version stored it: the conversation id was never checked.
    const placeholder = { provider: "msteams", conversationId: "team-id" } as unknown as AlertTarget;
    await subscribe(stack.storage, { conversationKey: "msteams:team-id", project: "legacy", minLevel: "info", target: placeholder });
    await subscribe(stack.storage, {
      conversationKey: `msteams:${team.generalChannelId}`,
      project: "legacy",
      minLevel: "info",
      target: { provider: "msteams", conversationId: team.generalChannelId },
    });

    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "legacy-1", issue: { id: "legacy-issue", project: "legacy" } }),
    );

    const rows = new DeliveryRepository(stack.storage);
    const dead = await waitFor(async () => (await rows.listForAlert("legacy-1")).find((row) => row.state === "dead"), {
      timeoutMs: 30_000,
      description: "the placeholder's delivery to be recorded dead",
    });
    expect(dead.reason).toMatch(/^invalid target: .*a Teams conversation id such as 19:/);
    await waitFor(() => stack.teams.messages(team.generalChannelId).find((m) => JSON.stringify(m.activity).includes('"issueId":"legacy-issue"')), {
      timeoutMs: 30_000,
      description: "the valid target's card",
    });
    expect(await messageCount(stack.azurite.connectionString, "deliveries-poison")).toBe(0);
    await logsOnceLogged(stack.host, "dead, target:");
  });
});
