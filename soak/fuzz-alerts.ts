// ≥ 2,000 mutated messages on the `alerts` queue (base64, as producers must send them). Each one must
// end exactly one way: stored in its issue (it matches alert schema v1) or on `alerts-poison` with the
// reason (it doesn't). The schema decides which is which; what is measured is whether the app does it.
import fc from "fast-check";
import { parseAlert } from "../shared/domain/alert";
import { IssueRepository } from "../shared/storage/issues";
import { anAlert } from "../test/fixtures/issues";
import { drain } from "../test/support/queues";
import { mutationsOf, sampleInputs } from "./mutate";
import { inPool } from "./pool";
import { waitUntilQuiet } from "./quiet";
import type { SoakTiming } from "./settings";
import { sendRawAlert, type SoakStack } from "./stack";

export interface AlertFuzzResult {
  sent: number;
  /** The queue itself refused them (over 64 KiB): never reached the app. */
  refusedByQueue: number;
  good: number;
  bad: number;
  goodStored: number;
  goodNotStored: number;
  badPoisonedWithReason: number;
  /** Bad ones nowhere, or on the poison queue without a reason (the host gave up on them). */
  badNotPoisonedWithReason: number;
  /** Good ones that also, or instead, reached alerts-poison. */
  goodPoisoned: number;
  hostCrashes: number;
  examples: { index: number; problem: string; input: string }[];
  waitedMs: number;
}

interface Sent {
  index: number;
  text: string;
  good: boolean;
  issueId?: string;
  alertId?: string;
}

const PROJECT = "soakfuzz";

export async function runAlertFuzz(
  stack: SoakStack,
  count: number,
  seed: number,
  concurrency: number,
  timing: SoakTiming,
  progress: (line: string) => void,
): Promise<AlertFuzzResult> {
  const crashesBefore = stack.unexpectedExits();
  await drain(stack.azurite.connectionString, "alerts-poison");
  // As the app receives them: UTF-8 on the wire turns a lone surrogate into U+FFFD.
  const texts = sampleInputs(fuzzedAlerts(), count, seed).map((text) => Buffer.from(text, "utf8").toString("utf8"));
  const sent: Sent[] = [];
  let refusedByQueue = 0;
  await inPool(texts, concurrency, Date.now() + 5 * 60_000, async (text, index) => {
    try {
      await sendRawAlert(stack, Buffer.from(text, "utf8").toString("base64"));
    } catch {
      refusedByQueue++;
      return;
    }
    const parsed = parseAlert(text);
    sent.push(parsed.ok ? { index, text, good: true, issueId: parsed.alert.issue.id, alertId: parsed.alert.alertId } : { index, text, good: false });
  });
  progress(`fuzz alerts: ${sent.length} enqueued (${sent.filter((s) => s.good).length} valid), ${refusedByQueue} refused by the queue`);

  const started = Date.now();
  await waitUntilQuiet(stack, timing, 5 * 60_000);
  const waitedMs = Date.now() - started;
  const poisoned = await drain(stack.azurite.connectionString, "alerts-poison");
  const withReason = new Map<string, number>();
  const withoutReason = new Set<string>();
  for (const message of poisoned) {
    const body = message.body as { error?: unknown; original?: unknown; truncated?: boolean } | string;
    if (typeof body === "object" && body && typeof body.error === "string" && typeof body.original === "string") {
      withReason.set(body.original, (withReason.get(body.original) ?? 0) + 1);
    } else {
      withoutReason.add(message.text ?? message.raw);
    }
  }
  const poisonedWithReason = (text: string) =>
    withReason.has(text) || [...withReason.keys()].some((original) => original.length > 1000 && text.startsWith(original));

  const repository = new IssueRepository(stack.storage);
  const result: AlertFuzzResult = {
    sent: sent.length,
    refusedByQueue,
    good: 0,
    bad: 0,
    goodStored: 0,
    goodNotStored: 0,
    badPoisonedWithReason: 0,
    badNotPoisonedWithReason: 0,
    goodPoisoned: 0,
    hostCrashes: stack.unexpectedExits() - crashesBefore,
    examples: [],
    waitedMs,
  };
  const example = (entry: Sent, problem: string) => {
    if (result.examples.length < 6)
      result.examples.push({
        index: entry.index,
        problem,
        input: entry.text.length > 200 ? `${entry.text.slice(0, 200)}… (${entry.text.length} chars)` : entry.text,
      });
  };
  for (const entry of sent) {
    if (entry.good) {
      result.good++;
      const stored = await repository.get(entry.issueId!).catch(() => undefined);
      if (stored?.recentAlertIds.includes(entry.alertId!)) result.goodStored++;
      else {
        result.goodNotStored++;
        example(
          entry,
          withoutReason.has(entry.text) ? "valid, not stored: the host gave up on it (alerts-poison without a reason)" : "valid, not stored",
        );
      }
      if (poisonedWithReason(entry.text) || withoutReason.has(entry.text)) result.goodPoisoned++;
    } else {
      result.bad++;
      if (poisonedWithReason(entry.text)) result.badPoisonedWithReason++;
      else {
        result.badNotPoisonedWithReason++;
        example(entry, withoutReason.has(entry.text) ? "invalid, on alerts-poison without a reason" : "invalid, not on alerts-poison");
      }
    }
  }
  progress(
    `fuzz alerts: ${result.goodStored}/${result.good} valid stored, ${result.badPoisonedWithReason}/${result.bad} invalid poisoned with a reason`,
  );
  return result;
}

/** Alerts of a fresh issue each (so "stored" is unambiguous), mutated; one in ten is not even JSON. */
function fuzzedAlerts(): fc.Arbitrary<string> {
  const alert = (n: number) =>
    anAlert({
      alertId: `${PROJECT}-alert-${n}`,
      issue: { id: `${PROJECT}-issue-${n}`, project: PROJECT, title: `Fuzzed ${n}`, description: "body text of a fuzzed alert" },
    });
  const mutated = fc
    .nat({ max: 1_000_000 })
    .chain((n) => fc.oneof({ weight: 1, arbitrary: fc.constant(alert(n)) }, { weight: 6, arbitrary: mutationsOf(alert(n)) }));
  const json = mutated.map((value) => JSON.stringify(value) ?? "null");
  const notJson = json.chain((text) => fc.nat().map((cut) => text.slice(0, cut % Math.max(1, text.length))));
  return fc.oneof({ weight: 9, arbitrary: json }, { weight: 1, arbitrary: notJson });
}
