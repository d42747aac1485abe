import { randomUUID } from "node:crypto";
import type { TransactionAction } from "@azure/data-tables";
import { safeKey, isNotFound, isPreconditionFailed, escapeOData, stripUndefined } from "./table";
import { QUEUES, TABLES, type StorageClients } from "./clients";
import { IssueRepository } from "./issues";

/** What every copy records, whatever the platform. */
interface CopyRecord {
  issueId: string;
  targetKey: string;
  renderedVersion: number;
  postedAt: string;
  dead?: string;
  /** The words the copy was posted with (an assignment notice in a person's chat): kept at its top on every update. */
  notice?: string;
  /** Updates begun and not finished (token → start): while any is listed the copy's content is unknown. */
  writers?: Record<string, string>;
  /**
   * Since then an update that may have overtaken a newer one is known to have landed: the copy shows an
   * older version than recorded, until an update begun later settles it.
   */
  behindSince?: string;
  /** The row's ETag when read. */
  etag?: string;
}

/** Where one copy of an issue's card lives, and which issue version it shows. */
export type CardCopy =
  | (CopyRecord & { provider: "msteams"; serviceUrl: string; tenantId: string; conversationId: string; activityId: string })
  | (CopyRecord & { provider: "slack"; teamId: string; channel: string; ts: string })
  /** `guildId`: the guild whose linked people the Assign menu offers; absent for a DM. */
  | (CopyRecord & { provider: "discord"; guildId?: string; channelId: string; messageId: string });

/** Where a copy lives on its platform: all its row key needs. */
export type CopyPlace = CardCopy extends infer Copy ? (Copy extends CardCopy ? Omit<Copy, keyof CopyRecord> & { issueId: string } : never) : never;

interface CardEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  body: string;
  renderedVersion: number;
  targetKey: string;
  postedAt: string;
  dead?: string;
  /** JSON of CardCopy.writers. */
  writers?: string;
  /** CardCopy.behindSince; "" when not behind. */
  behindSince?: string;
}

/** An update begun this long ago and never finished belonged to an instance that died (an update takes ≤ 15 s). */
const WRITER_STALE_MS = 60_000;

/**
 * Whether a refresh to `version` must rewrite this copy: it shows an older version, an update of it may have
 * overtaken a newer one (behind), or an update of it was begun long ago and never finished (its instance died,
 * maybe after the platform took it, so nobody knows what it shows). An update still in flight is left to its
 * writer, which reads the issue again once it lands and marks the copy behind if it moved on.
 */
export function needsRender(copy: CardCopy, version: number, now = Date.now()): boolean {
  if (copy.dead) return false;
  const abandoned = Object.values(copy.writers ?? {}).some((since) => now - Date.parse(since) >= WRITER_STALE_MS);
  return copy.renderedVersion < version || Boolean(copy.behindSince) || abandoned;
}

export function cardRowKey(card: CardCopy): string {
  if (card.provider === "discord") return safeKey(`discord:${card.channelId}:${card.messageId}`);
  return card.provider === "msteams"
    ? safeKey(`msteams:${card.conversationId}:${card.activityId}`)
    : safeKey(`slack:${card.teamId}:${card.channel}:${card.ts}`);
}

/** A begun update: its token, and the row as its own write left it. */
export interface Writer {
  token: string;
  startedAt: string;
  known: RowState & { etag: string };
}

type RowState = Pick<CardEntity, "renderedVersion" | "writers" | "behindSince">;

function entityState(card: CardCopy): RowState {
  return { renderedVersion: card.renderedVersion, writers: card.writers ? JSON.stringify(card.writers) : undefined, behindSince: card.behindSince };
}

function parseWriters(json: string | undefined): Record<string, string> {
  return json ? (JSON.parse(json) as Record<string, string>) : {};
}

/** A transaction holds at most 100 entities (Azure Tables). */
const TRANSACTION_LIMIT = 100;
/** Transactions tried (a 412 each: some copy changed meanwhile) before the copies go one by one. */
const TRANSACTION_TRIES = 4;

/** Registers writer `token` on the row; writers begun WRITER_STALE_MS ago are dropped (their instance died). */
function beginChange(entity: RowState, token: string, startedAt: string): Partial<CardEntity> {
  const now = Date.parse(startedAt);
  const writers = Object.fromEntries(Object.entries(parseWriters(entity.writers)).filter(([, since]) => now - Date.parse(since) < WRITER_STALE_MS));
  return { writers: JSON.stringify({ ...writers, [token]: startedAt }) };
}

/** What `endWrite` writes: see there. */
function endChange(entity: RowState, writer: Writer, sent: number | undefined, settled: boolean): Partial<CardEntity> {
  const { [writer.token]: _mine, ...others } = parseWriters(entity.writers);
  const writers = Object.keys(others).length ? JSON.stringify(others) : "";
  const rendered = Number(entity.renderedVersion);
  if (sent === undefined) return { writers };
  if (!settled) return { writers, renderedVersion: Math.min(rendered, sent), behindSince: new Date().toISOString() };
  const markedMeanwhile = Boolean(entity.behindSince) && entity.behindSince! >= writer.startedAt;
  if (markedMeanwhile) return { writers };
  return { writers, renderedVersion: Math.max(rendered, sent), behindSince: "" };
}

export class CardRepository {
  constructor(private readonly storage: StorageClients) {}

  async save(card: CardCopy): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    await table.upsertEntity(cardEntity(card), "Replace");
  }

  async list(issueId: string): Promise<CardCopy[]> {
    const table = await this.storage.table(TABLES.cards);
    const cards: CardCopy[] = [];
    // Copies' row keys start with their provider; bookkeeping rows (live cards, refresh state) with "~".
    for await (const entity of table.listEntities<CardEntity>({
      queryOptions: { filter: `PartitionKey eq '${escapeOData(safeKey(issueId))}' and RowKey lt '~'` },
    })) {
      cards.push(
        stripUndefined({
          ...(JSON.parse(entity.body) as object),
          renderedVersion: Number(entity.renderedVersion),
          targetKey: entity.targetKey,
          postedAt: entity.postedAt,
          dead: entity.dead,
          writers: entity.writers ? (JSON.parse(entity.writers) as Record<string, string>) : undefined,
          behindSince: entity.behindSince || undefined,
          etag: entity.etag,
        }) as CardCopy,
      );
    }
    return cards;
  }

  /**
   * Records that an update of the copy is about to be sent. An update never finished (its instance died, maybe
   * after the platform took it) makes every refresh after WRITER_STALE_MS rewrite the copy, as a redelivered
   * refresh (minutes later) does. Returns the writer's token.
   */
  async beginWrite(card: CardCopy): Promise<Writer> {
    const token = randomUUID();
    const startedAt = new Date().toISOString();
    const known = await this.changeRow(
      card,
      (entity) => beginChange(entity, token, startedAt),
      card.etag ? { ...entityState(card), etag: card.etag } : undefined,
    );
    return { token, startedAt, known };
  }

  /**
   * `beginWrite` for several copies of one issue at once: they share the issue's partition, so one Table
   * transaction (each entity under its ETag) records them all. A copy changed meanwhile fails the transaction
   * (412): the partition is read again and the transaction retried; still contended, each copy goes alone.
   */
  async beginWrites(cards: CardCopy[]): Promise<Writer[]> {
    const startedAt = new Date().toISOString();
    const tokens = cards.map(() => randomUUID());
    const known = await this.changeRows(
      cards,
      (entity, i) => beginChange(entity, tokens[i]!, startedAt),
      cards.map((card) => (card.etag ? { ...entityState(card), etag: card.etag } : undefined)),
      (card, i) => this.beginWriteAs(card, tokens[i]!, startedAt),
    );
    return cards.map((_, i) => ({ token: tokens[i]!, startedAt, known: known[i]! }));
  }

  private async beginWriteAs(card: CardCopy, token: string, startedAt: string): Promise<Writer["known"]> {
    return this.changeRow(card, (entity) => beginChange(entity, token, startedAt));
  }

  /**
   * The update begun as `writer` is over. `sent`: the version it put on the platform (none: it failed).
   * `settled`: the stored issue, read after that update landed, was still that version; then the copy shows it,
   * unless an update that landed after it was older (that one's writer, unsettled, marks the copy behind; only
   * an update begun after the mark can clear it). Unsettled, the copy is recorded as showing `sent` and behind:
   * every refresh rewrites it until a later update settles.
   */
  async endWrite(card: CardCopy, writer: Writer, sent: number | undefined, settled: boolean): Promise<void> {
    await this.changeRow(card, (entity) => endChange(entity, writer, sent, settled), writer.known);
  }

  /** `endWrite` for several copies of one issue, in one transaction (as `beginWrites`). */
  async endWrites(ends: { card: CardCopy; writer: Writer; sent: number | undefined; settled: boolean }[]): Promise<void> {
    await this.changeRows(
      ends.map((end) => end.card),
      (entity, i) => endChange(entity, ends[i]!.writer, ends[i]!.sent, ends[i]!.settled),
      ends.map((end) => end.writer.known),
      (card, i) => this.changeRow(card, (entity) => endChange(entity, ends[i]!.writer, ends[i]!.sent, ends[i]!.settled)),
    );
  }

  /**
   * A copy was just updated to `version` outside a refresh (the clicked card, answered in place). If the issue
   * has moved on meanwhile, that update may have landed after a newer one: record the copy as showing `version`
   * and queue a refresh, which renders the current issue.
   */
  /**
   * The copy a click answered with its new render (Teams' invoke response, Slack's replaced message, Discord's
   * UPDATE_MESSAGE) shows `version`: the refresh the change announced needn't spend an update on it. The row is
   * found by where the message lives, without listing the issue's copies; a message that isn't a stored copy
   * of the card has nothing to mark.
   */
  async markClickedRendered(place: CopyPlace, version: number): Promise<void> {
    try {
      await this.markRendered({ ...place, targetKey: "", renderedVersion: 0, postedAt: "" } as CardCopy, version);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async markRendered(card: CardCopy, version: number): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    // Both reads at once: the issue (has it moved on?) and the copy's row (for its ETag).
    const [issue, row] = await Promise.all([
      new IssueRepository(this.storage).get(card.issueId),
      table.getEntity<CardEntity>(safeKey(card.issueId), cardRowKey(card)),
    ]);
    const current = issue?.issue.version;
    const settled = current === undefined || current <= version;
    const known = { renderedVersion: row.renderedVersion, writers: row.writers, behindSince: row.behindSince, etag: row.etag! };
    await this.changeRow(
      card,
      (entity) => {
        const rendered = Number(entity.renderedVersion);
        // Settled or not, it began before any mark it finds: it can't clear one.
        if (!settled) return { renderedVersion: Math.min(rendered, version), behindSince: new Date().toISOString() };
        return entity.behindSince ? {} : { renderedVersion: Math.max(rendered, version) };
      },
      known,
    );
    if (!settled) await this.storage.send(QUEUES.cardRefresh, { issueId: card.issueId, version: current, requestedAt: new Date().toISOString() });
  }

  /**
   * Read-modify-write of a copy's row under its ETag. `known`: the row as this process last saw it, tried first
   * to save a read; a stale guess costs one failed write. Returns the row as written, with its new ETag.
   */
  private async changeRow(
    card: CardCopy,
    change: (entity: RowState) => Partial<CardEntity>,
    known?: RowState & { etag: string },
  ): Promise<Writer["known"]> {
    const table = await this.storage.table(TABLES.cards);
    const keys = { partitionKey: safeKey(card.issueId), rowKey: cardRowKey(card) };
    let current = known?.etag ? known : await table.getEntity<CardEntity>(keys.partitionKey, keys.rowKey);
    for (let attempt = 0; ; attempt++) {
      try {
        const changes = change(current);
        const written = await table.updateEntity({ ...keys, ...changes }, "Merge", { etag: current.etag });
        return {
          renderedVersion: Number(changes.renderedVersion ?? current.renderedVersion),
          writers: changes.writers ?? current.writers,
          behindSince: changes.behindSince ?? current.behindSince,
          etag: written.etag!,
        };
      } catch (error) {
        if (!isPreconditionFailed(error) || attempt >= 20) throw error;
      }
      current = await table.getEntity<CardEntity>(keys.partitionKey, keys.rowKey);
    }
  }

  /**
   * `changeRow` for copies of one issue in Table transactions (at most 100 entities each, Azure's limit), each
   * entity under its ETag. A 412 fails the whole transaction: the partition's copies are read again (one query)
   * and it is retried; after TRANSACTION_TRIES the copies of that transaction go one by one (`alone`).
   */
  private async changeRows(
    cards: CardCopy[],
    change: (entity: RowState, index: number) => Partial<CardEntity>,
    known: ((RowState & { etag: string }) | undefined)[],
    alone: (card: CardCopy, index: number) => Promise<Writer["known"]>,
  ): Promise<Writer["known"][]> {
    const written: Writer["known"][] = [];
    if (cards.length === 0) return written;
    const table = await this.storage.table(TABLES.cards);
    const partitionKey = safeKey(cards[0]!.issueId);
    for (let from = 0; from < cards.length; from += TRANSACTION_LIMIT) {
      const chunk = cards.slice(from, from + TRANSACTION_LIMIT).map((card, n) => ({ card, index: from + n, rowKey: cardRowKey(card) }));
      let current = chunk.map(({ index }) => (known[index]?.etag ? known[index] : undefined));
      let done = false;
      for (let attempt = 0; attempt < TRANSACTION_TRIES && !done; attempt++) {
        if (current.some((row) => row === undefined)) {
          const rows = await this.rows(partitionKey);
          current = chunk.map(({ rowKey }) => rows.get(rowKey));
          // A copy no longer stored can't be written in a transaction: the one-by-one path reports it.
          if (current.some((row) => row === undefined)) break;
        }
        const changes = chunk.map(({ index }, n) => change(current[n]!, index));
        try {
          const response = await table.submitTransaction(
            chunk.map(
              ({ rowKey }, n) => ["update", { partitionKey, rowKey, ...changes[n] }, "Merge", { etag: current[n]!.etag }] as TransactionAction,
            ),
          );
          chunk.forEach(({ index, rowKey }, n) => {
            written[index] = {
              renderedVersion: Number(changes[n]!.renderedVersion ?? current[n]!.renderedVersion),
              writers: changes[n]!.writers ?? current[n]!.writers,
              behindSince: changes[n]!.behindSince ?? current[n]!.behindSince,
              // Sub-responses come in the order of the actions; "" (none given) makes the next write read the row first.
              etag: response.subResponses[n]?.etag ?? response.getResponseForEntity(rowKey)?.etag ?? "",
            };
          });
          done = true;
        } catch (error) {
          if (!isPreconditionFailed(error)) throw error;
          current = chunk.map(() => undefined);
        }
      }
      if (!done) for (const { card, index } of chunk) written[index] = await alone(card, index);
    }
    return written;
  }

  /** The partition's copies as stored, by row key, with their ETags. */
  private async rows(partitionKey: string): Promise<Map<string, RowState & { etag: string }>> {
    const table = await this.storage.table(TABLES.cards);
    const rows = new Map<string, RowState & { etag: string }>();
    for await (const entity of table.listEntities<CardEntity>({
      queryOptions: {
        filter: `PartitionKey eq '${escapeOData(partitionKey)}' and RowKey lt '~'`,
        select: ["RowKey", "renderedVersion", "writers", "behindSince"],
      },
    })) {
      rows.set(entity.rowKey, {
        renderedVersion: Number(entity.renderedVersion),
        writers: entity.writers,
        behindSince: entity.behindSince,
        etag: entity.etag,
      });
    }
    return rows;
  }

  async markDead(card: CardCopy, reason: string): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    await table.updateEntity({ partitionKey: safeKey(card.issueId), rowKey: cardRowKey(card), dead: reason }, "Merge");
  }
}

/** The write `CardRepository.save` makes, as an action for a transaction in the issue's `cards` partition. */
export function cardSaveAction(card: CardCopy): TransactionAction {
  return ["upsert", { ...cardEntity(card) }, "Replace"];
}

/** A copy as first recorded: where it lives and what it shows, no update under way. */
function cardEntity(card: CardCopy): CardEntity {
  const { renderedVersion, targetKey, postedAt, dead, writers: _writers, behindSince: _behind, etag: _etag, ...where } = card;
  return stripUndefined({
    partitionKey: safeKey(card.issueId),
    rowKey: cardRowKey(card),
    body: JSON.stringify(where),
    renderedVersion,
    targetKey,
    postedAt,
    dead,
  });
}
