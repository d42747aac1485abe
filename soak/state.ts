// "State changes caused": every table row (by ETag), every queue's message count and every write the
// app made to Teams or Slack, compared before and after a batch of requests that must change nothing.
import { QUEUES, TABLES, type StorageClients } from "../shared/storage/clients";
import type { SoakStack } from "./stack";

export interface StateSnapshot {
  rows: Map<string, string>;
  queues: Map<string, number>;
  teamsWrites: number;
  slackWrites: number;
}

const ALL_QUEUES = Object.values(QUEUES).flatMap((queue) => [queue, `${queue}-poison`]);
const TEAMS_WRITES = new Set(["send", "reply", "update", "createConversation"]);

export async function snapshot(stack: SoakStack): Promise<StateSnapshot> {
  const rows = new Map<string, string>();
  for (const name of Object.values(TABLES)) {
    const table = await stack.storage.table(name);
    for await (const row of table.listEntities({ queryOptions: { select: ["PartitionKey", "RowKey"] } })) {
      rows.set(`${name}/${row.partitionKey}/${row.rowKey}`, row.etag);
    }
  }
  const queues = new Map<string, number>();
  for (const name of ALL_QUEUES) queues.set(name, await queueLength(stack.storage, name));
  return {
    rows,
    queues,
    teamsWrites: stack.teams.calls.filter((call) => TEAMS_WRITES.has(call.operation)).length,
    slackWrites: stack.slack.calls.filter((call) => call.method.startsWith("chat.")).length + stack.slack.responses.length,
  };
}

/** Rows created, changed or removed, messages added to any queue, and writes to either platform. */
export function changesBetween(before: StateSnapshot, after: StateSnapshot): { count: number; what: string[] } {
  const what: string[] = [];
  let count = 0;
  const note = (n: number, text: string) => {
    if (n <= 0) return;
    count += n;
    what.push(`${n} ${text}`);
  };
  const tableOf = (key: string) => key.split("/")[0]!;
  const byTable = new Map<string, number>();
  for (const [key, etag] of after.rows) if (before.rows.get(key) !== etag) byTable.set(tableOf(key), (byTable.get(tableOf(key)) ?? 0) + 1);
  for (const key of before.rows.keys()) if (!after.rows.has(key)) byTable.set(tableOf(key), (byTable.get(tableOf(key)) ?? 0) + 1);
  for (const [table, n] of byTable) note(n, `row(s) of ${table} created, changed or removed`);
  for (const [queue, n] of after.queues) note(n - (before.queues.get(queue) ?? 0), `message(s) on ${queue}`);
  note(after.teamsWrites - before.teamsWrites, "Teams write(s)");
  note(after.slackWrites - before.slackWrites, "Slack write(s)");
  return { count, what };
}

async function queueLength(storage: StorageClients, name: string): Promise<number> {
  const queue = storage.queueService().getQueueClient(name);
  if (!(await queue.exists())) return 0;
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
}
