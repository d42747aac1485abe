import { TABLES, type StorageClients } from "./clients";
import { isConflict } from "./table";

/** Guilds known to this instance already: recorded once per instance, not on every interaction. */
const recorded = new Set<string>();

/**
 * The Discord guilds the app serves, in the installations table (`discord:<guildId>` / `guild`). Without a
 * gateway connection there is no GUILD_CREATE: a guild is recorded when its first interaction arrives.
 */
export class DiscordGuilds {
  constructor(private readonly storage: StorageClients) {}

  async recordSeen(guildId: string): Promise<void> {
    if (recorded.has(guildId)) return;
    const table = await this.storage.table(TABLES.installations);
    try {
      await table.createEntity({ partitionKey: `discord:${guildId}`, rowKey: "guild", guildId, active: true, firstSeenAt: new Date().toISOString() });
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    recorded.add(guildId);
  }

  async isKnown(guildId: string): Promise<boolean> {
    const table = await this.storage.table(TABLES.installations);
    try {
      await table.getEntity(`discord:${guildId}`, "guild");
      return true;
    } catch {
      return false;
    }
  }
}
