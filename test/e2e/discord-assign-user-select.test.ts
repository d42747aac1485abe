// Assigning from a Discord card picks from everyone in the server (Discord's own user select), not from the first
// few linked people a string menu had room for (Sentry #85530, "assignee typeahead finds no one"). A picked member is
// assigned when they are linked in the server; a bot, or someone not linked, gets the clicker a private answer and
// nothing changes. Through the local host, Azurite and the Discord emulator, which signs the pick as Discord does and
// refuses a component Discord would refuse.
import { describe, expect, it } from "vitest";
import type { DiscordEmulator, DiscordMessage, DiscordUser } from "../../dev/emulators/discord";
import { QUEUES } from "../../shared/storage/clients";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { messageCount, sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { useSlowDiscordStack, type SlowDiscordStack } from "./discord-helpers";

let app: SlowDiscordStack;
let discord: DiscordEmulator;
let guildId: string;
let alertsId: string;
let opsId: string;

useSlowDiscordStack((started) => {
  app = started;
  ({ discord, guildId, channelId: alertsId } = started);
  opsId = discord.addChannel(guildId, "ops").id;
});

type Component = { type: number; custom_id?: string; label?: string; default_values?: { id: string; type: string }[] };
const componentsOf = (message: DiscordMessage) => (message.components as { components: Component[] }[]).flatMap((row) => row.components);
const storedIssue = async (issueId: string) => (await new IssueRepository(app.stack.storage).get(issueId))!.issue;
const assigneeShown = (message: DiscordMessage) =>
  (message.embeds as { fields?: { name: string; value: string }[] }[])[0]?.fields?.find((field) => field.name === "Assignee")?.value;

/** The issue's card posted in #alerts and #ops (one alert), once its refreshes are over: both copies. */
async function cardsInBothChannels(issueId: string): Promise<[DiscordMessage, DiscordMessage]> {
  await sendBase64Json(
    app.stack.azurite.connectionString,
    "alerts",
    anAlert({
      alertId: `alert-${issueId}`,
      issue: { id: issueId, tags: {} },
      targets: [
        { provider: "discord", channelId: alertsId },
        { provider: "discord", channelId: opsId },
      ],
    }),
  );
  const cards = await waitFor(
    () => {
      const [alerts, ops] = [app.cardOf(issueId, alertsId), app.cardOf(issueId, opsId)];
      return alerts && ops ? ([alerts, ops] as [DiscordMessage, DiscordMessage]) : undefined;
    },
    { timeoutMs: 30_000, description: "the card in #alerts and #ops" },
  );
  await waitFor(async () => (await messageCount(app.stack.azurite.connectionString, QUEUES.cardRefresh)) === 0, { timeoutMs: 30_000 });
  return cards;
}

/** The card's user select (Discord's component type 5). */
function userSelectOf(card: DiscordMessage): Component {
  const select = componentsOf(card).find((component) => component.type === 5);
  expect(select, "the card offers a user select").toBeDefined();
  return select!;
}

/** `clicker` picks `picked` in the card's user select in #alerts: Discord's answer. */
function pick(clicker: DiscordUser, card: DiscordMessage, picked: DiscordUser) {
  const interaction = discord.componentClick({
    user: clicker,
    channelId: card.channelId,
    messageId: card.id,
    customId: userSelectOf(card).custom_id!,
    values: [picked.id],
  });
  return discord.sendInteraction(app.interactionsUrl, interaction);
}

let people: DiscordUser[] = [];
/** 30 people linked in the server: member01 … member30 (member01 is the one who clicks). */
async function thirtyLinkedPeople(): Promise<DiscordUser[]> {
  if (people.length === 0) {
    people = await Promise.all(Array.from({ length: 30 }, (_, i) => app.linkedUser(`member${String(i + 1).padStart(2, "0")}`)));
  }
  return people;
}

describe("assigning from a Discord card picks from everyone in the server", () => {
  it("in a server of 30 linked people, picking the 30th assigns them and every copy shows it", async () => {
    const [clicker, , , , , , , , , , , , , , , , , , , , , , , , , , , , , thirtieth] = await thirtyLinkedPeople();
    const [card] = await cardsInBothChannels("pick-thirtieth");
    expect(componentsOf(card).some((component) => component.type === 3 && component.custom_id?.startsWith("assign~"))).toBe(false);
    expect(componentsOf(card).map((component) => component.label)).toContain("Assign to me");

    const answer = await pick(clicker!, card, thirtieth!);

    expect(answer.body?.type).toBe(7);
    expect((await storedIssue("pick-thirtieth")).assignee).toMatchObject({ email: "member30@contoso.com", name: "member30" });
    expect(assigneeShown(app.cardOf("pick-thirtieth", alertsId)!)).toBe("member30");
    await waitFor(() => assigneeShown(app.cardOf("pick-thirtieth", opsId)!) === "member30", {
      timeoutMs: 30_000,
      description: "the #ops copy showing member30 assigned",
    });
    // The other copy's user select shows who is assigned, as the clicked one does.
    expect(userSelectOf(app.cardOf("pick-thirtieth", opsId)!).default_values).toEqual([{ id: thirtieth!.id, type: "user" }]);
  }, 120_000);

  it("picking yourself assigns you, as Assign to me does", async () => {
    const [clicker] = await thirtyLinkedPeople();
    const [card] = await cardsInBothChannels("pick-myself");

    expect((await pick(clicker!, card, clicker!)).body?.type).toBe(7);

    expect((await storedIssue("pick-myself")).assignee?.email).toBe("member01@contoso.com");
  }, 120_000);

  it("picking a member who isn't linked changes nothing, and the clicker is told how they can link", async () => {
    const [clicker] = await thirtyLinkedPeople();
    const drifter = discord.addUser("drifter", "Dana Drifter");
    const [card] = await cardsInBothChannels("pick-unlinked");
    const editsBefore = card.edits;

    const answer = await pick(clicker!, card, drifter);

    expect(answer.body?.type).toBe(4);
    expect(answer.body?.data?.flags).toBe(64);
    const said = String(answer.body?.data?.content);
    expect(said).toContain("Dana Drifter");
    expect(said).toContain("/triage link");
    expect(said).toContain("Nothing was changed");
    expect((await storedIssue("pick-unlinked")).assignee).toBeUndefined();
    expect(app.cardOf("pick-unlinked", alertsId)!.edits).toBe(editsBefore);
  }, 120_000);

  it("picking a bot changes nothing, and the clicker is told issues go to people", async () => {
    const [clicker] = await thirtyLinkedPeople();
    const bot = discord.addBot("deploy-bot", "Deploy Bot");
    const [card] = await cardsInBothChannels("pick-bot");

    const answer = await pick(clicker!, card, bot);

    expect(answer.body?.type).toBe(4);
    expect(answer.body?.data?.flags).toBe(64);
    expect(String(answer.body?.data?.content)).toMatch(/Deploy Bot is a bot.*Nothing was changed/s);
    expect((await storedIssue("pick-bot")).assignee).toBeUndefined();
  }, 120_000);

  it("a card already posted with the old Assign menu still assigns from it", async () => {
    const [clicker, second] = await thirtyLinkedPeople();
    const [card] = await cardsInBothChannels("old-menu");
    const click = discord.componentClick({
      user: clicker!,
      channelId: alertsId,
      messageId: card.id,
      customId: "assign~old-menu",
      values: [`assign:${second!.username}@contoso.com`],
    });

    expect((await discord.sendInteraction(app.interactionsUrl, click)).body?.type).toBe(7);

    expect((await storedIssue("old-menu")).assignee?.email).toBe("member02@contoso.com");
  }, 120_000);
});

describe("the emulator checks components as Discord does", () => {
  // A channel of its own for each post: the channel's 5-per-5-seconds bucket is not what is tried here.
  let postedIn = "";
  const post = (components: unknown) =>
    fetch(`${discord.apiUrl}/channels/${(postedIn = discord.addChannel(guildId, "components").id)}/messages`, {
      method: "POST",
      headers: { authorization: `Bot ${discord.botToken}`, "content-type": "application/json" },
      body: JSON.stringify({ content: "components", components }),
    });
  const userSelect = (extra: Record<string, unknown>) => [{ type: 1, components: [{ type: 5, custom_id: "pick", ...extra }] }];

  it("takes a valid user select, with its default user", async () => {
    const posted = await post(userSelect({ placeholder: "Assign…", default_values: [{ id: people[0]?.id ?? "110000000000000000", type: "user" }] }));
    expect(posted.status).toBe(200);
  });

  it.each([
    ["a custom_id over 100 characters", userSelect({ custom_id: "x".repeat(101) })],
    [
      "two default users where one may be picked",
      userSelect({
        default_values: [
          { id: "110000000000000001", type: "user" },
          { id: "110000000000000002", type: "user" },
        ],
      }),
    ],
    ["a default that is a role", userSelect({ default_values: [{ id: "110000000000000001", type: "role" }] })],
    [
      "a select beside a button in one row",
      [
        {
          type: 1,
          components: [
            { type: 5, custom_id: "pick" },
            { type: 2, style: 2, label: "Me", custom_id: "me" },
          ],
        },
      ],
    ],
    ["six action rows", Array.from({ length: 6 }, (_, i) => ({ type: 1, components: [{ type: 2, style: 2, label: "B", custom_id: `b${i}` }] }))],
    [
      "two components with one custom_id",
      [
        {
          type: 1,
          components: [
            { type: 2, style: 2, label: "A", custom_id: "same" },
            { type: 2, style: 2, label: "B", custom_id: "same" },
          ],
        },
      ],
    ],
  ])("refuses %s: 400 Invalid Form Body (50035), nothing posted", async (_, components) => {
    const posted = await post(components);
    expect(posted.status).toBe(400);
    expect(((await posted.json()) as { code: number }).code).toBe(50035);
    expect(discord.messages(postedIn)).toEqual([]);
  });
});
