import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { blocksText, click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

// An instance remembers who is linked, and who can be assigned, for a few seconds so a burst of clicks reads
// them once. What a person does in that instance must show on their very next click all the same.
let stack: Stack;
let teamId: string;
let channel: string;
let ana: string;
let ben: string;

beforeAll(async () => {
  stack = await startStack();
  teamId = await installSlackWorkspace(stack, "Contoso");
  channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
  ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  ben = stack.slack.addUser(teamId, { name: "ben", realName: "Ben Okafor", email: "ben@contoso.com" }).id;
  await sendBase64Json(
    stack.azurite.connectionString,
    "alerts",
    anAlert({ alertId: "cache-1", issue: { id: "cache-issue" }, targets: [{ provider: "slack", teamId, channel }] }),
  );
  await waitFor(() => card(), { timeoutMs: 30_000 });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const card = () => stack.slack.messages(channel).find((m) => !m.ephemeral);
const status = async () => (await new IssueRepository(stack.storage).get("cache-issue"))!.issue.status;

/** Clicks `label` (or does `action`) on the card as `user`; resolves with the answers the click got (a first contact is answered by the worker). */
async function clickAs(user: string, label: string | { action_id: string; selected_user: string }) {
  const before = stack.slack.responses.length;
  const action = typeof label === "string" ? click(card()!.blocks, label) : label;
  const payload = stack.slack.blockActions({ teamId, user, channel, messageTs: card()!.ts, actions: [action] });
  expect((await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload)).status).toBe(200);
  await waitFor(() => (stack.slack.responses.length > before ? true : undefined), { timeoutMs: 30_000 });
  return stack.slack.responses.slice(before).map((r) => r.body as { response_type?: string; text?: string; replace_original?: boolean });
}

describe("Slack clicks right after a link changes, in the same instance", () => {
  it("someone linked by their first click is found by that link when picked in the Assign menu right after", async () => {
    await clickAs(ana, "Resolve");
    await clickAs(ana, "Unresolve");
    await waitFor(() => /Unresolved by/.test(blocksText(card()!.blocks))); // a refresh of the Resolve may land after the click's own update

    await clickAs(ben, "Resolve"); // Ben's first click: linked by his Slack profile, then applied
    expect(await status()).toBe("resolved");
    stack.slack.clearCalls();
    await clickAs(ana, { action_id: "triage.assign-user", selected_user: ben });
    expect((await new IssueRepository(stack.storage).get("cache-issue"))!.issue.assignee).toEqual({ email: "ben@contoso.com", name: "Ben Okafor" });
    expect(stack.slack.callsTo("users.info")).toHaveLength(0);
    await clickAs(ana, "Unresolve");
  });

  it("after /triage unlink, the next click gets the link prompt and changes nothing", async () => {
    await clickAs(ana, "Resolve"); // Ana is linked and known to this instance
    expect(await status()).toBe("resolved");

    const reply = await stack.slack.sendCommand(
      `${stack.api}/slack/commands`,
      stack.slack.slashCommand({ teamId, user: ana, channel, command: "/triage", text: "unlink" }),
    );
    expect((reply.json as { text: string }).text).toMatch(/You're unlinked/);
    const replies = await clickAs(ana, "Unresolve");
    expect(replies.find((r) => r.response_type === "ephemeral")?.text).toMatch(/link your Slack account/i);
    expect(await status()).toBe("resolved");
  });
});

describe("a first click while Slack throttles reading profiles", () => {
  it("users.info answers 429: the click waits on the queue and is applied once Slack answers, with no prompt to link", async () => {
    const cy = stack.slack.addUser(teamId, { name: "cy", realName: "Cy Tan", email: "cy@contoso.com" }).id;
    expect(await status()).toBe("resolved"); // as the test above left it
    await waitFor(() => (/Resolved by/.test(blocksText(card()!.blocks)) ? true : undefined));
    stack.slack.injectError({ method: "users.info", error: "ratelimited", retryAfterSec: 1, times: 2 });
    const mark = stack.host.logs().length;
    const replies = await clickAs(cy, "Unresolve");
    expect(replies.map((r) => r.text ?? "").join("\n")).not.toMatch(/link your Slack account/i);
    expect(await status()).toBe("unresolved");
    expect(stack.host.logs().slice(mark).join("\n")).toContain("Slack throttled reading the clicker's profile");
    const reads = stack.slack.callsTo("users.info").filter((call) => call.params.user === cy);
    expect(reads.map((call) => call.httpStatus)).toEqual([429, 429, 200]);
  }, 60_000);

  it("users.info fails with a 503: the click waits on the queue and is applied once Slack answers, with no prompt to link", async () => {
    const di = stack.slack.addUser(teamId, { name: "di", realName: "Di Park", email: "di@contoso.com" }).id;
    expect(await status()).toBe("unresolved"); // as the test above left it
    await waitFor(() => (/Resolved by/.test(blocksText(card()!.blocks)) ? undefined : true));
    stack.slack.injectError({ method: "users.info", httpStatus: 503 });
    const mark = stack.host.logs().length;
    const replies = await clickAs(di, "Resolve");
    expect(replies.map((r) => r.text ?? "").join("\n")).not.toMatch(/link your Slack account/i);
    await waitFor(async () => ((await status()) === "resolved" ? true : undefined), { timeoutMs: 30_000 });
    expect(stack.host.logs().slice(mark).join("\n")).toContain("reading the clicker's profile failed (HTTP 503)");
  }, 60_000);
});
