import { safeKey } from "../delivery/deliveries";
import { TABLES, type StorageClients } from "./clients";
import { isPreconditionFailed } from "./errors";
import { escapeOData, stripUndefined } from "./issues";

/** Where one copy of an issue's card lives, and which issue version it shows. */
export type CardCopy =
  | {
      provider: "msteams";
      issueId: string;
      serviceUrl: string;
      tenantId: string;
      conversationId: string;
      activityId: string;
      targetKey: string;
      renderedVersion: number;
      postedAt: string;
      dead?: string;
    }
  | {
      provider: "slack";
      issueId: string;
      teamId: string;
      channel: string;
      ts: string;
      targetKey: string;
      renderedVersion: number;
      postedAt: string;
      dead?: string;
    };

interface CardEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  body: string;
  renderedVersion: number;
  targetKey: string;
  postedAt: string;
  dead?: string;
}

export function cardRowKey(card: CardCopy): string {
  return card.provider === "msteams"
    ? safeKey(`msteams:${card.conversationId}:${card.activityId}`)
    : safeKey(`slack:${card.teamId}:${card.channel}:${card.ts}`);
}

export class CardRepository {
  constructor(private readonly storage: StorageClients) {}

  async save(card: CardCopy): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    const { renderedVersion, targetKey, postedAt, dead, ...where } = card;
    await table.upsertEntity<CardEntity>(
      stripUndefined({ partitionKey: safeKey(card.issueId), rowKey: cardRowKey(card), body: JSON.stringify(where), renderedVersion, targetKey, postedAt, dead }),
      "Replace",
    );
  }

  async list(issueId: string): Promise<CardCopy[]> {
    const table = await this.storage.table(TABLES.cards);
    const cards: CardCopy[] = [];
    // Copies' row keys start with their provider; bookkeeping rows (live cards, refresh state) with "~".
    for await (const entity of table.listEntities<CardEntity>({
      queryOptions: { filter: `PartitionKey eq '${escapeOData(safeKey(issueId))}' and RowKey lt '~'` },
    })) {
      cards.push(stripUndefined({
        ...(JSON.parse(entity.body) as object),
        renderedVersion: Number(entity.renderedVersion),
        targetKey: entity.targetKey,
        postedAt: entity.postedAt,
        dead: entity.dead,
      }) as CardCopy);
    }
    return cards;
  }

  /**
   * Records that the copy shows `version`, never moving backwards: two refreshes can overlap, and the
   * slower one's older card must not make the newer one look done.
   */
  async markRendered(card: CardCopy, version: number): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    const keys = { partitionKey: safeKey(card.issueId), rowKey: cardRowKey(card) };
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await table.getEntity<CardEntity>(keys.partitionKey, keys.rowKey);
      if (Number(current.renderedVersion) >= version) return;
      try {
        await table.updateEntity({ ...keys, renderedVersion: version }, "Merge", { etag: current.etag });
        return;
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error;
      }
    }
  }

  async markDead(card: CardCopy, reason: string): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    await table.updateEntity({ partitionKey: safeKey(card.issueId), rowKey: cardRowKey(card), dead: reason }, "Merge");
  }
}
