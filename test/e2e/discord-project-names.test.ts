// Discord's `/triage subscribe` takes the project as a typed option, so a name with spaces (Azure Monitor's
// "Resource Health") needs no quotes there; the replies show every name as it is, markdown and all. Through the
// built app, Azurite and the Discord emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordEmulator, DiscordUser } from "../../dev/emulators/discord";
import { sampleText } from "../unit/ingest/fixtures";
import { waitFor } from "../support/wait";
import { startStack, type Stack } from "./stack";

const TOKEN = "ingest-token-for-discord-project-names-0123456789";
/** The fixture's alert rule: its card's title. */
const RULE = "VM health - wcus-r2-gen2";
const POSTING_HINT =
  "Make sure the app can post here (View Channel, Send Messages, Embed Links; for thread lines, Create Public Threads and Send Messages in Threads).";

let stack: Stack;
let discord: DiscordEmulator;
let channelId: string;
let ana: DiscordUser;

beforeAll(async () => {
  stack = await startStack({ env: { INGEST_TOKENS: TOKEN } });
  discord = stack.discord!;
  ({
    channels: [{ id: channelId }],
  } = discord.addGuild("Ops", ["azure-health"]) as unknown as { channels: [{ id: string }] });
  ana = discord.addUser("ana", "Ana Lima");
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

/** What Ana sees after `/triage <subcommand>` with these options in the channel. */
async function triage(subcommand: string, options?: Record<string, string | boolean>): Promise<string> {
  const answer = await discord.sendInteraction(
    `${stack.api}/discord/interactions`,
    discord.slashCommand({ user: ana, channelId, subcommand, options }),
  );
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
  return String(answer.body!.data!.content);
}

/** The names a `subscriptions` reply lists, as Discord shows them: bold, markdown escapes shown as the character. */
const listedNames = (text: string) => [...text.matchAll(/^- \*\*(.+)\*\* \(/gm)].map((match) => match[1]!.replace(/\\(.)/g, "$1"));

describe("Discord: a project name with spaces or markdown, typed in the project option", () => {
  it("subscribe with project Resource Health (no quotes)", async () => {
    expect(await triage("subscribe", { project: "Resource Health", level: "warning", thread: false })).toBe(
      `Subscribed: alerts for **Resource Health** at level warning or above will be posted in this channel, without thread replies saying who did what. ${POSTING_HINT}`,
    );
  });

  it("the Resource Health alert from Azure Monitor gets its card in the channel", async () => {
    const response = await fetch(`${stack.api}/ingest/azure-monitor?token=${TOKEN}`, {
      method: "POST",
      body: sampleText("azure-monitor-resource-health-unavailable"),
    });
    expect(response.status).toBe(202);
    await waitFor(() => discord.messages(channelId).find((m) => !m.ephemeral && JSON.stringify(m.embeds).includes(RULE)), {
      timeoutMs: 30_000,
      description: "the card in the Discord channel",
    });
  });

  it("a project named **bold** is answered and listed literally, not in bold", async () => {
    expect(await triage("subscribe", { project: "**bold**" })).toBe(
      `Subscribed: alerts for **\\*\\*bold\\*\\*** at level error or above will be posted in this channel. ${POSTING_HINT}`,
    );
    const list = await triage("subscriptions");
    expect(list).toBe("Subscribed in this channel:\n\n- **\\*\\*bold\\*\\*** (error and above)\n- **Resource Health** (warning and above)");
    // As they are typed into the project option again: no quotes.
    expect(listedNames(list)).toEqual(["**bold**", "Resource Health"]);
  });

  it("a name typed in quotes, as the Slack and Teams help teach, is the name without them", async () => {
    expect(await triage("subscribe", { project: "\u201cResource Health\u201d", level: "warning" })).toMatch(
      /^Subscribed: alerts for \*\*Resource Health\*\* /,
    );
    expect(listedNames(await triage("subscriptions"))).toEqual(["**bold**", "Resource Health"]);
  });

  it("unsubscribe with the names as listed", async () => {
    expect(await triage("unsubscribe", { project: "Resource Health" })).toBe("Unsubscribed from **Resource Health**.");
    expect(await triage("unsubscribe", { project: "**bold**" })).toBe("Unsubscribed from **\\*\\*bold\\*\\***.");
    expect(await triage("subscriptions")).toMatch(/^No subscriptions in this channel yet/);
  });
});
