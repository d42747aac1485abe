import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { blocksText, click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

// Slack's Assign menu is Slack's own user menu (issue 14): anyone in the workspace can be picked, whether or
// not they ever used Triage Relay; the pick becomes a person by the email Slack confirmed for them.
let stack: Stack;
let teamId: string;
let channel: string;
let ana: string;
let cleo: string;
let dee: string;
let bot: string;

const ISSUE = "fh-slack-assign";

beforeAll(async () => {
  stack = await startStack();
  teamId = await installSlackWorkspace(stack, "Contoso");
  channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
  ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  cleo = stack.slack.addUser(teamId, { name: "cleo", realName: "Cleo Diaz", email: "Cleo@Contoso.com" }).id;
  dee = stack.slack.addUser(teamId, { name: "dee", realName: "Dee Ng" }).id; // no email in her profile
  bot = stack.slack.addUser(teamId, { name: "deploybot", realName: "Deploy Bot", isBot: true }).id;
  await sendBase64Json(
    stack.azurite.connectionString,
    "alerts",
    anAlert({ alertId: "fh-assign-1", issue: { id: ISSUE }, targets: [{ provider: "slack", teamId, channel }] }),
  );
  await waitFor(() => card(), { timeoutMs: 30_000 });
  // Ana has used the app before: she is linked, so her clicks are answered on the click path.
  await clickAs(ana, click(card()!.blocks, "Resolve"));
  await clickAs(ana, click(card()!.blocks, "Unresolve"));
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const card = () => stack.slack.messages(channel).find((m) => !m.ephemeral);
const issue = async () => (await new IssueRepository(stack.storage).get(ISSUE))!.issue;
const pick = (user: string) => ({ action_id: "triage.assign-user", selected_user: user });

async function clickAs(user: string, action: { action_id: string; selected_user?: string; selected_option?: { value: string } }) {
  const before = stack.slack.responses.length;
  const payload = stack.slack.blockActions({ teamId, user, channel, messageTs: card()!.ts, actions: [action] });
  expect((await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload)).status).toBe(200);
  await waitFor(() => (stack.slack.responses.length > before ? true : undefined), { timeoutMs: 30_000 });
  return stack.slack.responses.slice(before).map((r) => r.body as { response_type?: string; text?: string; replace_original?: boolean });
}

describe("Slack Assign: Slack's user menu", () => {
  it("the card offers Slack's user menu, not a list of people already linked", () => {
    const actions = card()!.blocks.find((b) => b.type === "actions") as { elements: { type: string; action_id: string }[] };
    expect(actions.elements.find((e) => e.action_id === "triage.assign-user")?.type).toBe("users_select");
  });

  it("assigns a teammate who never used Triage Relay: their confirmed email makes them a person, linked on the way", async () => {
    expect(await new IdentityRepository(stack.storage).get("slack", teamId, cleo)).toBeUndefined();
    stack.slack.clearCalls();

    const answers = await clickAs(ana, pick(cleo));

    expect(answers.some((a) => a.replace_original === true)).toBe(true);
    expect((await issue()).assignee).toEqual({ email: "cleo@contoso.com", name: "Cleo Diaz" });
    expect(stack.slack.callsTo("users.info").length).toBeGreaterThan(0);
    // A refresh of an earlier change may still land on the card: it converges on the stored state.
    const text = await waitFor(() => {
      const shown = blocksText(card()!.blocks);
      return shown.includes("Assigned to Cleo Diaz") ? shown : undefined;
    });
    expect(text).not.toContain("cleo@contoso.com");
    const linked = await new IdentityRepository(stack.storage).get("slack", teamId, cleo);
    expect(linked).toMatchObject({ person: { email: "cleo@contoso.com", name: "Cleo Diaz" }, how: "auto" });
  });

  it("a bot can't be assigned: a private answer, and nothing changes", async () => {
    const before = await issue();
    const answers = await clickAs(ana, pick(bot));
    expect(answers.find((a) => a.response_type === "ephemeral")?.text).toMatch(/Deploy Bot is a bot or an app, not a person.*Nothing was changed/);
    expect(answers.some((a) => a.replace_original === true)).toBe(false);
    expect((await issue()).version).toBe(before.version);
    expect(await new IdentityRepository(stack.storage).get("slack", teamId, bot)).toBeUndefined();
  });

  it("someone without a confirmed email can't be assigned: a private answer, and nothing changes", async () => {
    const before = await issue();
    const answers = await clickAs(ana, pick(dee));
    expect(answers.find((a) => a.response_type === "ephemeral")?.text).toMatch(/no confirmed email address for Dee Ng.*Nothing was changed/);
    expect((await issue()).version).toBe(before.version);
    expect((await issue()).assignee?.email).toBe("cleo@contoso.com");
    expect(await new IdentityRepository(stack.storage).get("slack", teamId, dee)).toBeUndefined();
  });

  it("picking yourself assigns you; someone already linked is found without asking Slack", async () => {
    await clickAs(ana, pick(ana));
    expect((await issue()).assignee).toEqual({ email: "ana@contoso.com", name: "Ana Lima" });
    stack.slack.clearCalls();
    await clickAs(ana, pick(cleo));
    expect((await issue()).assignee).toEqual({ email: "cleo@contoso.com", name: "Cleo Diaz" });
    expect(stack.slack.callsTo("users.info")).toHaveLength(0);
    await waitFor(() => blocksText(card()!.blocks).includes("Assigned to Cleo Diaz"));
  });
});
