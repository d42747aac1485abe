// Slack escapes `&`, `<` and `>` in every text it sends, a slash command's `text` included: `/triage subscribe
// "Checkout & Payments"` arrives as `"Checkout &amp; Payments"`. The subscription is saved under the name as typed,
// so the project's alerts reach the channel. Through the built app, Azurite and the Slack emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/wait";
import { triageReply } from "./slack-command-helpers";
import { blocksText } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

const TOKEN = "ingest-token-for-escaped-text-e2e-0123456789";
const PROJECT = "Checkout & Payments";
const TITLE = "PaymentDeclined: card refused by issuer";

let stack: Stack;
let teamId: string;
let ana: string;
let channel: string;

beforeAll(async () => {
  stack = await startStack({ env: { INGEST_TOKENS: TOKEN } });
  teamId = await installSlackWorkspace(stack, "Contoso");
  ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  channel = stack.slack.addChannel(teamId, { name: "payments" }).id;
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

/** What Ana sees after typing `/triage <text>` in the channel. */
const triage = (text: string) => triageReply(stack, { teamId, user: ana, channel }, text);

describe("a slash command whose text Slack escaped", () => {
  it("the emulator sends the text escaped, as Slack does", () => {
    const fields = stack.slack.slashCommand({ teamId, user: ana, channel, command: "/triage", text: 'subscribe "A & <B>"' });
    expect(fields.text).toBe('subscribe "A &amp; &lt;B&gt;"');
  });

  it('subscribe "Checkout & Payments": the answer names the project as typed', async () => {
    // mrkdwn shows `&amp;` as `&`.
    expect(await triage(`subscribe "${PROJECT}"`)).toBe(
      "Subscribed: alerts for *Checkout &amp; Payments* at level error or above will be posted in this channel. Make sure the app can post here (invite it to private channels).",
    );
  });

  it("`subscriptions` lists it as typed, ready to copy", async () => {
    expect(await triage("subscriptions")).toBe('Subscribed in this channel:\n\n• *"Checkout &amp; Payments"* (error and above)');
  });

  it("an alert for project Checkout & Payments gets its card in the channel", async () => {
    const response = await fetch(`${stack.api}/ingest/alerts`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        schemaVersion: 1,
        alertId: "payments-1:firing:1",
        issue: {
          id: "payments-1",
          project: PROJECT,
          title: TITLE,
          level: "error",
          count: 1,
          firstSeen: "2026-01-01T10:00:00Z",
          lastSeen: "2026-01-01T10:00:00Z",
        },
      }),
    });
    expect(response.status).toBe(202);
    await waitFor(() => stack.slack.messages(channel).find((m) => !m.ephemeral && blocksText(m.blocks).includes("PaymentDeclined")), {
      timeoutMs: 30_000,
      description: "the card in the Slack channel",
    });
  });

  it("a name typed with entities in it is kept as typed, not decoded twice", async () => {
    expect(await triage('subscribe "R&amp;D &lt;lab&gt;" warning')).toMatch(
      /^Subscribed: alerts for \*R&amp;amp;D &amp;lt;lab&amp;gt;\* at level warning/,
    );
    expect(await triage('unsubscribe "R&amp;D &lt;lab&gt;"')).toBe("Unsubscribed from *R&amp;amp;D &amp;lt;lab&amp;gt;*.");
  });

  it("an unknown word is echoed as typed, never as a mention or a link", async () => {
    expect(await triage("<!here>")).toMatch(/^I don't know "&lt;!here&gt;"\./);
    expect(await triage("subscribe checkout <!here>")).toMatch(/^"&lt;!here&gt;" is not a level\./);
  });

  it("help says a project with spaces goes in quotes", async () => {
    expect(await triage("help")).toMatch(/PROJECT with spaces goes in quotes[^]*`\/triage subscribe "Resource Health" warning`/);
  });
});
