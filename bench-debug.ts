import { QueueClient } from "@azure/storage-queue";
import { subscribe, fanoutAlerts, readCopies } from "./bench/stack/fanout";
import { startStack } from "./test/e2e/stack";
(async () => {
  const shape = { alerts: 200, issues: 20, teamsChannels: 5, slackChannels: 5, hosts: Number(process.env.H ?? 1), timeoutMs: 60000 };
  const stack = await startStack({ hosts: shape.hosts, slackRateLimits: true });
  stack.teams.enforceRateLimits(true);
  const places = await subscribe(stack, shape);
  stack.teams.clearCalls(); stack.slack.clearCalls();
  const queue = new QueueClient(stack.azurite.connectionString, "alerts");
  await queue.createIfNotExists();
  const started = Date.now();
  for (const a of fanoutAlerts(shape)) await queue.sendMessage(Buffer.from(JSON.stringify(a)).toString("base64"));
  for (let i = 0; i < 12; i++) {
    await new Promise((r) => setTimeout(r, 5000));
    const copies = readCopies(stack, places, shape.issues);
    const t = stack.teams.calls, s = stack.slack.calls;
    console.log(`${((Date.now() - started) / 1000).toFixed(0)}s copies ${copies.length} final ${copies.filter((c) => c.shows === 10).length} teams ${t.length} (send ${t.filter((c: any) => c.operation === "send").length}, 429 ${t.filter((c: any) => c.status === 429).length}) slack ${s.length} (post ${s.filter((c: any) => c.method === "chat.postMessage").length}, upd ${s.filter((c: any) => c.method === "chat.update").length}, rl ${s.filter((c: any) => c.error === "ratelimited").length})`);
  }
  const t429 = stack.teams.calls.filter((c: any) => c.status === 429);
  console.log(JSON.stringify(t429.slice(0, 5).map((c: any) => ({ op: c.operation, conv: c.conversationId?.slice(0, 20), at: c.at }))));
  console.log(stack.teams.calls.reduce((m: any, c: any) => ((m[c.operation] = (m[c.operation] ?? 0) + 1), m), {}));
  const logs = stack.hosts.flatMap((h) => h.logs()).filter((l) => /retry in|dead|not updated/i.test(l));
  const reasons: Record<string, number> = {};
  for (const l of logs) { const r = /\((.*)\)$/.exec(l)?.[1]?.replace(/\d+/g, "N") ?? l.slice(60, 140); reasons[r] = (reasons[r] ?? 0) + 1; }
  console.log(reasons);
  const s0 = started;
  const slackLines = stack.hosts.flatMap((h) => h.logs()).filter((l) => /slack:/.test(l) && Date.parse(l.slice(0, 24)) - s0 > 32000).slice(0, 20);
  console.log(slackLines.map((l) => l.slice(0, 220)).join("\n"));
  await stack.stop();
  process.exit(0);
})();
