// Discord as tests meet it around the emulator: people linked to an email, and a stand-in for the app's
// interactions endpoint (for tests that drive the app's Discord clients, or the emulator itself, without the app).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect } from "vitest";
import {
  startDiscordEmulator,
  type DiscordEmulator,
  type DiscordEmulatorOptions,
  type DiscordMessage,
  type DiscordUser,
  type RecordedCall,
} from "../../dev/emulators/discord";
import type { StorageClients } from "../../shared/storage/clients";
import { IdentityRepository } from "../../shared/storage/identities";

/** A new Discord user `name`, linked (explicitly) to `name@contoso.com` in the guild. */
export async function linkedDiscordUser(discord: DiscordEmulator, storage: StorageClients, name: string, guildId: string): Promise<DiscordUser> {
  const user = discord.addUser(name, name);
  await new IdentityRepository(storage).link({
    provider: "discord",
    scope: guildId,
    chatUserId: user.id,
    person: { email: `${name}@contoso.com`, name },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });
  return user;
}

/** The bot's DM channel with the user (Discord has one per user and bot), once opened. */
function directMessageChannel(discord: DiscordEmulator, userId: string): string | undefined {
  return [...discord.channels.values()].find((channel) => channel.type === 1 && channel.recipientId === userId)?.id;
}

/** What the bot posted in its DM with the user, oldest first (none: never opened, or nothing posted). */
export function directMessagesTo(discord: DiscordEmulator, userId: string): DiscordMessage[] {
  const channelId = directMessageChannel(discord, userId);
  return channelId ? discord.messages(channelId) : [];
}

/** The bot's requests to post in its DM with the user, refused ones included. */
export function directMessagePostsTo(discord: DiscordEmulator, userId: string): RecordedCall[] {
  const channelId = directMessageChannel(discord, userId);
  return channelId ? discord.calls.filter((call) => call.method === "POST" && call.path === `/channels/${channelId}/messages`) : [];
}

/** How the stand-in answers an interaction: a JSON body, or silence for this long. */
export type StandInAnswer = { body: unknown } | { silentMs: number };

export interface InteractionsStandIn {
  url: string;
  stop(): Promise<void>;
}

/** Stands in for the app's interactions endpoint: answers each interaction as `answer()` says when it arrives. */
export async function startInteractionsStandIn(answer: () => StandInAnswer): Promise<InteractionsStandIn> {
  const server = createServer((req, res) => {
    req.resume();
    const next = answer();
    if ("silentMs" in next) setTimeout(() => res.writeHead(200).end(), next.silentMs);
    else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(next.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A message saying `content` posted in the channel through the REST API with the bot's token: its id. */
export async function postedByTheBot(discord: DiscordEmulator, channelId: string, content: string): Promise<string> {
  const posted = await fetch(`${discord.apiUrl}/channels/${channelId}/messages`, {
    method: "POST",
    headers: { authorization: `Bot ${discord.botToken}`, "content-type": "application/json" },
    body: JSON.stringify({ content }),
  });
  return ((await posted.json()) as { id: string }).id;
}

/**
 * A message saying `content` posted by the bot in the channel, then clicked by a new user and answered deferred
 * (DEFERRED_UPDATE_MESSAGE) by `endpointUrl`: the message and the interaction's token.
 */
async function deferredClickOnNewMessage(discord: DiscordEmulator, endpointUrl: string, channelId: string, content: string) {
  const messageId = await postedByTheBot(discord, channelId, content);
  const interaction = discord.componentClick({ user: discord.addUser("ana"), channelId, messageId, customId: "resolve~x" });
  expect(await discord.sendInteraction(endpointUrl, interaction)).toEqual({ status: 200, body: { type: 6 } });
  return { messageId, token: String(interaction.token) };
}

export interface DiscordAnsweringDeferred {
  discord: DiscordEmulator;
  /** The "Checkout" guild's #alerts. */
  channelId: string;
  /** A new message in #alerts, clicked and answered deferred: the message and the interaction's token. */
  deferredClickOnNewMessage(content: string): Promise<{ messageId: string; token: string }>;
}

/**
 * For a file whose tests share them: the emulator (a "Checkout" guild with #alerts) and a stand-in for the app that
 * answers every interaction DEFERRED_UPDATE_MESSAGE, as a slow click is; started before the tests (then handed to
 * `onStarted`) and stopped after them.
 */
export function useDiscordAnsweringDeferred(onStarted: (started: DiscordAnsweringDeferred) => void, options: DiscordEmulatorOptions = {}): void {
  let discord: DiscordEmulator | undefined;
  let app: InteractionsStandIn | undefined;
  beforeAll(async () => {
    const emulator = await startDiscordEmulator(options);
    discord = emulator;
    const channelId = emulator.addGuild("Checkout", ["alerts"]).channels[0]!.id;
    const endpoint = await startInteractionsStandIn(() => ({ body: { type: 6 } }));
    app = endpoint;
    onStarted({
      discord: emulator,
      channelId,
      deferredClickOnNewMessage: (content) => deferredClickOnNewMessage(emulator, endpoint.url, channelId, content),
    });
  });
  afterAll(async () => {
    await app?.stop();
    await discord?.stop();
  });
}
