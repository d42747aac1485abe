// Single-workspace mode (SLACK_BOT_TOKEN): the app learns which workspace it serves from Slack's auth.test. When
// Slack can't be asked, a person typing a command must hear that Slack couldn't be reached and to try again, not that
// the app isn't installed (which sends them to an admin for nothing); the log says why, never with the token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceHandle } from "../../../dev/emulators/slack";
import { loadConfig } from "../../../shared/config";
import type { SlackContext } from "../../../shared/context";
import { handleSlashCommand } from "../../../shared/inbound/slack/commands";
import { finishQueued, slackActionMessageSchema } from "../../../shared/inbound/slack/interactions";
import { SlackTokens } from "../../../shared/slack/client";
import { slashCommandSchema } from "../../../shared/slack/payloads";
import { DeliveryRepository, readDeliveryMessage } from "../../../shared/storage/deliveries";
import { createTeamsServices } from "../../../shared/teams/services";
import { takeAlert } from "../../../shared/workflows/alert-intake";
import { deliverBatch } from "../../../shared/workflows/deliver";
import { click } from "../../e2e/slack-helpers";
import { anAlert } from "../../fixtures/issues";
import { testContext } from "../../support/app-context";
import { startEmulatedApp, type EmulatedApp } from "../../support/emulated-app";
import { drain } from "../../support/queues";
import { waitFor } from "../../support/wait";

let app: EmulatedApp;
let solo: WorkspaceHandle;
let bo: string;
let channel: string;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "slack-single-workspace-unreachable",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000a7e5", tenantId: "72f988bf-0000-4000-8000-0000000000a7" },
  });
  solo = app.slack.addWorkspace({ name: "Solo" });
  bo = app.slack.addUser(solo.teamId, { name: "bo", email: "bo@solo.example" }).id;
  channel = app.slack.addChannel(solo.teamId, { name: "general" }).id;
}, 60_000);
afterAll(async () => {
  app.slack.clearFaults();
  await app?.stop();
});

/** A fresh instance of the app serving only Solo through SLACK_BOT_TOKEN. */
function soloInstance(log: (line: string) => void): SlackContext {
  const config = loadConfig({ ...app.settings, SLACK_BOT_TOKEN: solo.botToken });
  const context = testContext({ config, storage: app.storage, teams: createTeamsServices(config).connector, log });
  return { ...context, slack: new SlackTokens(config.slack!, app.storage) };
}

/** The alert's card, delivered as the queues would (the deliveries queue drained through `instance`). */
async function deliverQueued(instance: SlackContext): Promise<void> {
  for (const message of await drain(app.connectionString, "deliveries")) {
    const read = readDeliveryMessage(message.body);
    if (read.ok) await deliverBatch(instance, read.batch);
  }
}

const cardOf = (issueId: string) => app.slack.messages().find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(issueId));

async function boTypes(instance: SlackContext, text: string): Promise<string> {
  const command = slashCommandSchema.parse(app.slack.slashCommand({ teamId: solo.teamId, user: bo, channel, command: "/triage", text }));
  return ((await handleSlashCommand(instance, command)) as { text: string }).text;
}

describe("single-workspace mode when Slack's auth.test fails", () => {
  it.each([
    { fault: { httpStatus: 503 as const }, why: /auth\.test.*503/ },
    { fault: { error: "fatal_error" }, why: /auth\.test.*fatal_error/ },
  ])("Slack answering $fault: Bo is told Slack couldn't be reached and to try again; the log says why", async ({ fault, why }) => {
    const logged: string[] = [];
    const instance = soloInstance((line) => logged.push(line));
    app.slack.injectError({ method: "auth.test", times: Infinity, ...fault });
    let answer: string;
    try {
      answer = await boTypes(instance, "status");
    } finally {
      app.slack.clearFaults();
    }

    expect(answer).not.toMatch(/isn't installed/);
    expect(answer).toMatch(/couldn't reach Slack/);
    expect(answer).toMatch(/try again/i);
    expect(logged.join("\n")).toMatch(why);
    expect(logged.join("\n")).not.toContain(solo.botToken);

    // Slack answers again: the same instance serves the command.
    expect(await boTypes(instance, "status")).toMatch(/You're not linked to anyone yet/);
  });

  it("a card for the workspace while auth.test fails waits for Slack and is posted once it answers, never dropped as not installed", async () => {
    const instance = soloInstance(() => {});
    const cards = app.slack.addChannel(solo.teamId, { name: "alerts" }).id;
    const alert = anAlert({
      alertId: "solo-unreachable-1",
      issue: { id: "solo-unreachable" },
      targets: [{ provider: "slack", teamId: solo.teamId, channel: cards }],
    });
    app.slack.injectError({ method: "auth.test", httpStatus: 503, times: Infinity });
    try {
      await takeAlert(app.storage, alert, JSON.stringify(alert), { deliverer: instance });
      await deliverQueued(instance);
    } finally {
      app.slack.clearFaults();
    }
    const [row] = await new DeliveryRepository(app.storage).listForAlert("solo-unreachable-1");
    expect(row?.state).not.toBe("dead");

    await waitFor(
      async () => {
        await deliverQueued(instance);
        return cardOf("solo-unreachable");
      },
      { timeoutMs: 60_000, intervalMs: 500, description: "the card posted once Slack answers" },
    );
  }, 90_000);

  it("a click finished by the worker while auth.test fails: the clicker is told Slack couldn't be reached, not that the app was uninstalled", async () => {
    const alert = anAlert({ alertId: "solo-click-1", issue: { id: "solo-click" }, targets: [{ provider: "slack", teamId: solo.teamId, channel }] });
    const delivering = soloInstance(() => {});
    await takeAlert(app.storage, alert, JSON.stringify(alert), { deliverer: delivering });
    await deliverQueued(delivering);
    const card = await waitFor(() => cardOf("solo-click"), { description: "the card" });
    const payload = app.slack.blockActions({
      teamId: solo.teamId,
      user: bo,
      channel: card.channel,
      messageTs: card.ts,
      actions: [click(card.blocks, "Resolve")],
    });
    app.slack.injectError({ method: "auth.test", httpStatus: 503, times: Infinity });
    try {
      await finishQueued(
        soloInstance(() => {}),
        slackActionMessageSchema.parse({ click: payload, mayBeApplied: false }),
      );
    } finally {
      app.slack.clearFaults();
    }

    const answer = app.slack.responses.find((r) => payload.response_url.endsWith(`/${r.responseUrlId}`));
    expect(answer?.body).toMatchObject({ response_type: "ephemeral", text: expect.stringMatching(/couldn't reach Slack/) });
    expect(JSON.stringify(answer?.body)).not.toMatch(/isn't installed/);
  });
});
