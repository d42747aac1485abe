import { z } from "zod";
import { ids, isAlertId, isIssueId, isPrintableText } from "./ids";
import { LEVELS } from "./issue";

const isoDateTime = z.iso.datetime({ offset: true });
const text = (max: number) => z.string().trim().min(1).max(max);

const teamsChannelTarget = z.strictObject({
  provider: z.literal("msteams"),
  conversationId: ids.teamsConversationId,
});
const teamsUserTarget = z.strictObject({
  provider: z.literal("msteams"),
  userEmail: z.email().optional(),
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
  userEmail: z.email(),
});

export const alertTargetSchema = z.union([teamsChannelTarget, teamsUserTarget, slackChannelTarget, slackUserTarget]);

/** Alert schema v1: the producers' contract (ARCHITECTURE.md). */
export const alertSchema = z.object({
  schemaVersion: z.literal(1),
  alertId: text(256).refine(isAlertId, "no control characters or unpaired surrogates"),
  status: z.enum(["firing", "resolved"]).optional(), // absent = "firing"
  issue: z.object({
    id: text(200).refine(isIssueId, "no /, \\, #, ?, control characters or unpaired surrogates"),
    shortId: text(100).optional(),
    project: text(200).refine(isPrintableText, "no control characters or unpaired surrogates"),
    title: text(4000),
    culprit: z.string().max(4000).optional(),
    description: z.string().max(32_000).optional(),
    level: z.enum(LEVELS),
    environment: z.string().max(200).optional(),
    url: z.url({ protocol: /^https?$/ }).max(2000).optional(),
    count: z.number().int().nonnegative(),
    userCount: z.number().int().nonnegative().default(0),
    firstSeen: isoDateTime,
    lastSeen: isoDateTime,
    tags: z
      .record(z.string().max(200), z.string().max(1000))
      .refine((tags) => Object.keys(tags).length <= 100, "at most 100 tags")
      .default({}),
  }),
  rule: z.object({ id: text(200), name: text(500) }).optional(),
  targets: z.array(alertTargetSchema).max(50).optional(),
});

export type Alert = z.infer<typeof alertSchema>;
export type AlertTarget = z.infer<typeof alertTargetSchema>;

export interface SchemaProblem {
  path: string;
  message: string;
}

export type AlertParseResult = { ok: true; alert: Alert } | { ok: false; error: string; issues: SchemaProblem[] };

export function parseAlert(message: unknown): AlertParseResult {
  let input = message;
  if (typeof message === "string") {
    try {
      input = JSON.parse(message);
    } catch {
      return { ok: false, error: "The message is not JSON.", issues: [{ path: "", message: "expected a JSON object" }] };
    }
  }
  const result = alertSchema.safeParse(input);
  if (result.success) return { ok: true, alert: result.data };
  return {
    ok: false,
    error: "The message does not match alert schema v1.",
    issues: result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
  };
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
