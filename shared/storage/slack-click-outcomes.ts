import { getIfPresent, safeKey } from "./table";
import { TABLES, type StorageClients } from "./clients";

/** The parts of a Slack block_actions payload that name one click. */
export interface ClickOfSlack {
  team?: { id: string } | null;
  user: { id: string; team_id?: string };
  actions: { action_ts?: string }[];
}

/** What applying a click came to: enough for whoever answers the clicker to say it. */
export type RecordedOutcome = { kind: "changed" | "unchanged" | "refused" | "not-found"; message?: string };

/**
 * The outcome of a click handed to the `slack-actions` worker while its change was already being written:
 * the worker answers from it instead of applying the click a second time. Rows live in the `events` table
 * beside Slack's event ids, keyed by workspace, clicker and the click's `action_ts`.
 */
export class ClickOutcomes {
  constructor(private readonly storage: StorageClients) {}

  static key(click: ClickOfSlack): { partitionKey: string; rowKey: string } | undefined {
    const teamId = click.team?.id ?? click.user.team_id;
    const actionTs = click.actions[0]?.action_ts;
    if (!teamId || !actionTs) return undefined;
    return { partitionKey: `slack-click:${safeKey(teamId)}`, rowKey: safeKey(`${click.user.id}:${actionTs}`) };
  }

  async record(click: ClickOfSlack, outcome: RecordedOutcome): Promise<void> {
    const key = ClickOutcomes.key(click);
    if (!key) return;
    const table = await this.storage.table(TABLES.events);
    await table.upsertEntity({ ...key, kind: outcome.kind, message: outcome.message ?? "", recordedAt: new Date().toISOString() }, "Replace");
  }

  async get(click: ClickOfSlack): Promise<RecordedOutcome | undefined> {
    const key = ClickOutcomes.key(click);
    if (!key) return undefined;
    const row = await getIfPresent<{ kind: RecordedOutcome["kind"]; message: string }>(
      await this.storage.table(TABLES.events),
      key.partitionKey,
      key.rowKey,
    );
    return row && { kind: row.kind, ...(row.message ? { message: row.message } : {}) };
  }
}
