// The stack as the Discord click tests need it: a guild with an #alerts channel, and the app with its storage behind
// a proxy that can be made slow, so that a click is answered deferred and finished through the interaction's webhook.
import { afterAll, beforeAll } from "vitest";
import type { DiscordEmulator, DiscordMessage, DiscordUser } from "../../dev/emulators/discord";
import { QUEUES } from "../../shared/storage/clients";
import { anAlert } from "../fixtures/issues";
import { linkedDiscordUser } from "../support/discord";
import { startHostProcess, type HostProcess } from "../support/host-process";
import { messageCount, sendBase64Json } from "../support/queues";
import { startSlowStorage, type SlowStorage } from "../support/slow-storage";
import { waitFor } from "../support/wait";
import { startStack, type Stack } from "./stack";

export interface SlowDiscordStack {
  stack: Stack;
  discord: DiscordEmulator;
  /** In front of the app's storage: `slow.setDelay(ms)` holds each of its requests that long. */
  slow: SlowStorage;
  /** The app (on the stack's port, so link URLs hold), its storage behind `slow`. */
  host: HostProcess;
  /** The "Checkout" guild and its #alerts channel. */
  guildId: string;
  channelId: string;
  /** `${host.url}/api/discord/interactions` */
  interactionsUrl: string;
  /** The issue's card (not an ephemeral answer) in the channel (default #alerts). */
  cardOf(issueId: string, channelId?: string): DiscordMessage | undefined;
  /**
   * An alert of the issue for one channel (default #alerts) put on the alerts queue; resolves with its card, once the
   * alert's own card refreshes are over too (unless `refreshesOver: false`), so nothing else of the app's talks to
   * Discord during a click that follows.
   */
  postedCard(issueId: string, options?: { channelId?: string; refreshesOver?: boolean }): Promise<DiscordMessage>;
  /** A new user `name`, linked to `name@contoso.com` in the guild (default Checkout). */
  linkedUser(name: string, guildId?: string): Promise<DiscordUser>;
  /** Runs `run` with storage `ms` slower. */
  withSlowStorage<T>(ms: number, run: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export interface SlowDiscordStackOptions {
  /** DISCORD_ALLOWED_GUILDS: the Checkout guild only. Default: every guild. */
  onlyCheckoutAllowed?: boolean;
}

/** The stack (card refreshes coalesced for 1 s), its app restarted with its storage behind a slow proxy, not slow yet. */
export async function startSlowDiscordStack(options: SlowDiscordStackOptions = {}): Promise<SlowDiscordStack> {
  const stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  const discord = stack.discord!;
  const {
    guild: { id: guildId },
    channels: [{ id: channelId }],
  } = discord.addGuild("Checkout", ["alerts"]) as unknown as { guild: { id: string }; channels: [{ id: string }] };
  let slow: SlowStorage | undefined;
  try {
    slow = await startSlowStorage(stack.azurite);
    await stack.host.stop();
    const port = Number(new URL(stack.env.PUBLIC_BASE_URL!).port);
    const allowed = options.onlyCheckoutAllowed ? { DISCORD_ALLOWED_GUILDS: guildId } : {};
    const host = await startHostProcess({ env: { ...stack.env, AzureWebJobsStorage: slow.connectionString, ...allowed }, port });
    return slowDiscordStack({ stack, discord, slow, host, guildId, channelId });
  } catch (error) {
    await slow?.stop();
    await stack.stop();
    throw error;
  }
}

function slowDiscordStack(parts: Pick<SlowDiscordStack, "stack" | "discord" | "slow" | "host" | "guildId" | "channelId">): SlowDiscordStack {
  const { stack, discord, slow, host, guildId, channelId } = parts;
  const cardOf = (issueId: string, channel = channelId) =>
    discord.messages(channel).find((m) => !m.ephemeral && JSON.stringify(m.components).includes(`~${issueId}`));
  return {
    ...parts,
    interactionsUrl: `${host.url}/api/discord/interactions`,
    cardOf,
    async postedCard(issueId, { channelId: channel = channelId, refreshesOver = true } = {}) {
      await sendBase64Json(
        stack.azurite.connectionString,
        "alerts",
        anAlert({ alertId: `alert-${issueId}`, issue: { id: issueId, tags: {} }, targets: [{ provider: "discord", channelId: channel }] }),
      );
      const card = await waitFor(() => cardOf(issueId, channel), { timeoutMs: 30_000 });
      if (refreshesOver) {
        await waitFor(async () => (await messageCount(stack.azurite.connectionString, QUEUES.cardRefresh)) === 0, { timeoutMs: 30_000 });
      }
      return card;
    },
    linkedUser: (name, guild = guildId) => linkedDiscordUser(discord, stack.storage, name, guild),
    async withSlowStorage(ms, run) {
      slow.setDelay(ms);
      try {
        return await run();
      } finally {
        slow.setDelay(0);
      }
    },
    async stop() {
      // Discord reachable again, in case a failed test left it refusing connections, before the app drains its work.
      await discord.acceptConnections();
      await host.stop();
      await slow.stop();
      await stack.stop();
    },
  };
}

/**
 * For a file whose tests share one: starts it before them (then hands it to `onStarted`, which keeps the parts the
 * file uses) and stops it after them.
 */
export function useSlowDiscordStack(onStarted: (started: SlowDiscordStack) => void, options: SlowDiscordStackOptions = {}): void {
  let started: SlowDiscordStack | undefined;
  beforeAll(async () => {
    started = await startSlowDiscordStack(options);
    onStarted(started);
  }, 120_000);
  afterAll(async () => {
    await started?.stop();
  });
}
