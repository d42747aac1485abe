import { z } from "zod";
import { ID_LIMITS, ids, isAlertId, isIssueId, isProjectName, PROJECT_NAME_RULE } from "./ids";
import { LEVELS } from "./issue";
import { QUEUE_MESSAGE_JSON_BYTES, queueMessageValue } from "./queue-message";

/**
 * An alert is one queue message: at most 49,152 bytes of JSON. The field limits below keep an alert with
 * every field at its limit, in plain ASCII, inside that (46,392 bytes, test/unit/domain/intake.test.ts);
 * text that needs more bytes per character (non-ASCII, escapes) is bounded by the whole-message limit.
 */
export const MAX_ALERT_JSON_BYTES = QUEUE_MESSAGE_JSON_BYTES;

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
const teamsUserTarget = z
  .strictObject({
    provider: z.literal("msteams"),
    userEmail: z.email().max(ALERT_LIMITS.email).optional(),
    aadObjectId: z.uuid().optional(),
  })
  .refine((t) => t.userEmail || t.aadObjectId, "a Teams user target needs userEmail or aadObjectId");
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

const discordSnowflake = z.string().regex(/^\d{17,20}$/, "a Discord id (snowflake: 17-20 digits)");
const discordChannelTarget = z.strictObject({ provider: z.literal("discord"), channelId: discordSnowflake });
const discordUserTarget = z.strictObject({ provider: z.literal("discord"), guildId: discordSnowflake, userEmail: z.email().max(ALERT_LIMITS.email) });

/**
 * A target that fits no branch is explained by the branch it was meant for: zod's own union message is
 * only "Invalid input", which hides the branch's explanation ("a Teams conversation id such as 19:…").
 */
export const alertTargetSchema = z.union(
  [teamsChannelTarget, teamsUserTarget, slackChannelTarget, slackUserTarget, discordChannelTarget, discordUserTarget],
  {
    error: (issue) => (issue.code === "invalid_union" ? bestBranchMessage(issue.errors) : undefined),
  },
);

/**
 * The branch the input was meant for: one whose `provider` matched, then one that recognised every key,
 * then the one with the fewest problems. Its problems, each with its path inside the target.
 */
function bestBranchMessage(branches: z.core.$ZodIssue[][]): string | undefined {
  const rank = (problems: z.core.$ZodIssue[]) => [
    problems.some((p) => p.path[0] === "provider") ? 1 : 0,
    problems.some((p) => p.code === "unrecognized_keys") ? 1 : 0,
    problems.length,
  ];
  const best = [...branches].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    return ra[0]! - rb[0]! || ra[1]! - rb[1]! || ra[2]! - rb[2]!;
  })[0];
  if (!best?.length) return undefined;
  if (best.some((p) => p.path[0] === "provider")) return 'a target needs provider "msteams", "slack" or "discord"';
  // The first problem per field: later checks on a field that already failed add nothing (its length, say).
  const byPath = new Map<string, string>();
  for (const p of best) if (!byPath.has(p.path.join("."))) byPath.set(p.path.join("."), p.message);
  return [...byPath].map(([path, message]) => (path ? `${path}: ${message}` : message)).join("; ");
}

/** Alert schema v1: the producers' contract (ARCHITECTURE.md). */
export const alertSchema = z.object({
  schemaVersion: z.literal(1),
  /** Absent = "alert"; the queue's other kinds ("issue-action", "release") have their own schemas. */
  kind: z.literal("alert").optional(),
  alertId: text(256).refine(isAlertId, "no control characters or unpaired surrogates; at most 256 characters, counting / \\ # ? % as three"),
  status: z.enum(["firing", "resolved"]).optional(), // absent = "firing"
  issue: z.object({
    id: text(200).refine(isIssueId, "no /, \\, #, ?, control characters or unpaired surrogates; at most 200 characters, counting % as three"),
    shortId: text(ALERT_LIMITS.shortId).optional(),
    project: text(ID_LIMITS.project).refine(isProjectName, PROJECT_NAME_RULE),
    title: text(ALERT_LIMITS.title),
    culprit: z.string().max(ALERT_LIMITS.culprit).optional(),
    description: z.string().max(ALERT_LIMITS.description).optional(),
    level: z.enum(LEVELS),
    environment: z.string().max(ALERT_LIMITS.environment).optional(),
    url: z
      .url({ protocol: /^https?$/ })
      .max(ALERT_LIMITS.url)
      .optional(),
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
  const read = queueMessageValue(message);
  if (!read.ok) return { ok: false, error: "The message is not JSON.", issues: [{ path: "", message: "expected a JSON object" }] };
  const input = read.value;
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
  return { ok: false, error: "The message does not match alert schema v1.", issues: schemaProblems(result.error) };
}

/** What a schema found wrong, by dotted path: what the poison message and an HTTP 400 list. */
export function schemaProblems(error: z.ZodError): SchemaProblem[] {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
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
  if (target.provider === "discord") {
    return "channelId" in target ? `discord:${target.channelId}` : `discord:${target.guildId}:email:${target.userEmail.toLowerCase()}`;
  }
  if ("channel" in target) return `slack:${target.teamId}:${target.channel}`;
  return `slack:${target.teamId}:email:${target.userEmail.toLowerCase()}`;
}
