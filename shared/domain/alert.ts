import { z } from "zod";
import { ID_LIMITS, ids, isAlertId, isIssueId, isPrintableText } from "./ids";
import { LEVELS } from "./issue";

/**
 * A queue message holds at most 65,536 characters (64 KiB; Azurite refuses one more with 413), and the
 * host reads base64, which takes 4 characters for every 3 bytes: so an alert is at most 49,152 bytes of
 * JSON. The field limits below keep an alert with every field at its limit, in plain ASCII, inside that
 * (46,392 bytes, test/unit/domain/intake.test.ts); text that needs more bytes per character (non-ASCII,
 * escapes) is bounded by the whole-message limit.
 */
export const MAX_ALERT_JSON_BYTES = 49_152;

export const ALERT_LIMITS = {
  title: 2000,
  culprit: 1000,
  description: 10_000,
  environment: 200,
  url: 2000,
  shortId: 100,
  tags: 20,
  tagKey: 100,
  tagValue: 1000,
  ruleId: 200,
  ruleName: 500,
  targets: 20,
  email: 254,
} as const;

const isoDateTime = z.iso.datetime({ offset: true });
const text = (max: number) => z.string().trim().min(1).max(max);

const teamsChannelTarget = z.strictObject({
  provider: z.literal("msteams"),
  conversationId: ids.teamsConversationId,
});
const teamsUserTarget = z.strictObject({
  provider: z.literal("msteams"),
  userEmail: z.email().max(ALERT_LIMITS.email).optional(),
  aadObjectId: z.uuid().optional(),
}).refine((t) => t.userEmail || t.aadObjectId, "a Teams user target needs userEmail or aadObjectId");
const slackChannelTarget = z.strictObject({
  provider: z.literal("slack"),
  teamId: ids.slackTeamId,
  channel: ids.slackChannelId,
});
const slackUserTarget = z.strictObject({
  provider: z.literal("slack"),
  teamId: ids.slackTeamId,
  userEmail: z.email().max(ALERT_LIMITS.email),
});

export const alertTargetSchema = z.union([teamsChannelTarget, teamsUserTarget, slackChannelTarget, slackUserTarget]);

/** Alert schema v1: the producers' contract (ARCHITECTURE.md). */
export const alertSchema = z.object({
  schemaVersion: z.literal(1),
  alertId: text(256).refine(isAlertId, "no control characters or unpaired surrogates; at most 256 characters, counting / \\ # ? % as three"),
  status: z.enum(["firing", "resolved"]).optional(), // absent = "firing"
  issue: z.object({
    id: text(200).refine(isIssueId, "no /, \\, #, ?, control characters or unpaired surrogates; at most 200 characters, counting % as three"),
    shortId: text(ALERT_LIMITS.shortId).optional(),
    project: text(ID_LIMITS.project).refine(isPrintableText, "no control characters or unpaired surrogates"),
    title: text(ALERT_LIMITS.title),
    culprit: z.string().max(ALERT_LIMITS.culprit).optional(),
    description: z.string().max(ALERT_LIMITS.description).optional(),
    level: z.enum(LEVELS),
    environment: z.string().max(ALERT_LIMITS.environment).optional(),
    url: z.url({ protocol: /^https?$/ }).max(ALERT_LIMITS.url).optional(),
    count: z.number().int().nonnegative(),
    userCount: z.number().int().nonnegative().default(0),
    firstSeen: isoDateTime,
    lastSeen: isoDateTime,
    tags: z
      .record(z.string().max(ALERT_LIMITS.tagKey), z.string().max(ALERT_LIMITS.tagValue))
      .refine((tags) => Object.keys(tags).length <= ALERT_LIMITS.tags, `at most ${ALERT_LIMITS.tags} tags`)
      .default({}),
  }),
  rule: z.object({ id: text(ALERT_LIMITS.ruleId), name: text(ALERT_LIMITS.ruleName) }).optional(),
  targets: z.array(alertTargetSchema).max(ALERT_LIMITS.targets).optional(),
});

export type Alert = z.infer<typeof alertSchema>;
export type AlertTarget = z.infer<typeof alertTargetSchema>;

export interface SchemaProblem {
  path: string;
  message: string;
}

/** `tooLarge`: over `MAX_ALERT_JSON_BYTES` (an HTTP intake answers 413 to it, 400 to the rest). */
export type AlertParseResult = { ok: true; alert: Alert } | { ok: false; error: string; issues: SchemaProblem[]; tooLarge?: true };

export function parseAlert(message: unknown): AlertParseResult {
  let input = message;
  if (typeof message === "string") {
    try {
      input = JSON.parse(message);
    } catch {
      return { ok: false, error: "The message is not JSON.", issues: [{ path: "", message: "expected a JSON object" }] };
    }
  }
  const bytes = typeof message === "string" ? Buffer.byteLength(message) : jsonBytes(input);
  if (bytes > MAX_ALERT_JSON_BYTES) {
    return {
      ok: false,
      tooLarge: true,
      error: "The message is larger than an alert can be.",
      issues: [{ path: "", message: `${bytes} bytes of JSON; at most ${MAX_ALERT_JSON_BYTES} (what a 64 KiB base64 queue message holds)` }],
    };
  }
  const result = alertSchema.safeParse(input);
  if (result.success) return { ok: true, alert: result.data };
  return {
    ok: false,
    error: "The message does not match alert schema v1.",
    issues: result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
  };
}

function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? "");
  } catch {
    return 0; // not serialisable (a cycle): the schema rejects it
  }
}

/** A stable key for a target, used as the deliveries row key and in card keys. */
export function targetKey(target: AlertTarget): string {
  if (target.provider === "msteams") {
    if ("conversationId" in target) return `msteams:conv:${target.conversationId}`;
    return target.aadObjectId ? `msteams:user:${target.aadObjectId}` : `msteams:email:${target.userEmail!.toLowerCase()}`;
  }
  if ("channel" in target) return `slack:${target.teamId}:${target.channel}`;
  return `slack:${target.teamId}:email:${target.userEmail.toLowerCase()}`;
}
