// The Discord emulator's interaction webhook behaves as Discord's: `@original` and followups work once the
// interaction was answered in time, for 15 minutes, for this application; otherwise 404 Unknown Webhook.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INTERACTION_TOKEN_LIFETIME_MS, startDiscordEmulator, type DiscordEmulator } from "../../../dev/emulators/discord";
import { postedByTheBot, startInteractionsStandIn, type InteractionsStandIn, type StandInAnswer } from "../../support/discord";

let discord: DiscordEmulator;
let app: InteractionsStandIn;
/** How the stand-in app answers the next interaction: a body, or silence for this long. */
let nextAnswer: StandInAnswer = { body: { type: 6 } };
let channelId: string;
let messageId: string;

beforeAll(async () => {
  discord = await startDiscordEmulator();
  channelId = discord.addGuild("Checkout", ["alerts"]).channels[0]!.id;
  messageId = await postedByTheBot(discord, channelId, "card v1");
  app = await startInteractionsStandIn(() => nextAnswer);
});
afterAll(async () => {
  await app?.stop();
  await discord?.stop();
});

const ana = () => discord.addUser("ana");
async function clickAnswered(answer: typeof nextAnswer) {
  nextAnswer = answer;
  const interaction = discord.componentClick({ user: ana(), channelId, messageId, customId: "resolve~x" });
  const result = await discord.sendInteraction(app.url, interaction);
  return { token: String(interaction.token), result };
}
const editOriginal = (token: string, content: string, applicationId = discord.applicationId) =>
  fetch(`${discord.apiUrl}/webhooks/${applicationId}/${token}/messages/@original`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ content }),
  });
const followup = (token: string, content: string) =>
  fetch(`${discord.apiUrl}/webhooks/${discord.applicationId}/${token}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ content, flags: 64 }),
  });

describe("the Discord emulator's interaction webhook", () => {
  it("after DEFERRED_UPDATE_MESSAGE, editing @original edits the message the button is on; a followup is a new (ephemeral) message", async () => {
    const { token, result } = await clickAnswered({ body: { type: 6 } });
    expect(result).toEqual({ status: 200, body: { type: 6 } });
    expect((await editOriginal(token, "card v2")).status).toBe(200);
    expect(discord.message(channelId, messageId)).toMatchObject({ content: "card v2", edits: 1 });
    expect((await followup(token, "only for you")).status).toBe(200);
    expect(discord.messages(channelId).at(-1)).toMatchObject({ content: "only for you", ephemeral: true });
  });

  it("a token older than 15 minutes: 404 Unknown Webhook, nothing edited", async () => {
    const { token } = await clickAnswered({ body: { type: 6 } });
    discord.ageInteraction(token, INTERACTION_TOKEN_LIFETIME_MS + 1_000);
    const edits = discord.message(channelId, messageId)!.edits;
    const answer = await editOriginal(token, "too late");
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ code: 10015, message: "Unknown Webhook" });
    expect((await followup(token, "too late")).status).toBe(404);
    expect(discord.message(channelId, messageId)!.edits).toBe(edits);
  });

  it("an unknown token, or another application's id: 404 Unknown Webhook", async () => {
    const { token } = await clickAnswered({ body: { type: 6 } });
    expect((await editOriginal("not-a-token", "x")).status).toBe(404);
    expect((await editOriginal(token, "x", "1100000000000000001")).status).toBe(404);
  });

  it("an interaction not answered within 3 s is given up (timedOut) and its token invalidated", async () => {
    const { token, result } = await clickAnswered({ silentMs: 3_500 });
    expect(result).toEqual({ status: 0, timedOut: true });
    expect((await editOriginal(token, "late")).status).toBe(404);
  }, 10_000);
});
