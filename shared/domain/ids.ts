import { z } from "zod";

/**
 * One grammar per kind of id that reaches a storage key or a platform URL. Every id the app accepts — in an
 * alert, a subscription, a Slack payload or a Teams activity — is checked against these at the edge, so
 * nothing past the edge has to wonder whether a key can be built from it.
 *
 * Lengths leave room for the longest composite key built from them (`safeKey` of
 * `msteams:<conversation>:<activity>` stays well under Table Storage's 1 KiB key limit).
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Printable text: no control characters, no unpaired surrogate halves (they can't be encoded as UTF-8). */
export function isPrintableText(value: string): boolean {
  return !CONTROL.test(value) && !LONE_SURROGATE.test(value);
}

/**
 * The length of `safeKey(value)`: `/ \ # ? %` and C0 controls become three characters (`%2f`), C1 controls
 * six (UTF-8). Limits below are on this length, so a key built from an accepted id always fits Table Storage
 * (keys up to 512 characters here: Azurite refuses longer ones; Azure allows 1 KiB).
 */
export function keyLength(value: string): number {
  let length = 0;
  for (const c of value) {
    const code = c.codePointAt(0)!;
    if (/[/\\#?%]/.test(c) || code < 0x20 || code === 0x7f) length += 3;
    else if (code >= 0x80 && code <= 0x9f) length += 6;
    else length += c.length;
  }
  return length;
}

export const ID_LIMITS = {
  teamsConversationId: 320,
  teamsUserId: 200,
  teamsActivityId: 100,
  slackId: 32,
  slackEventId: 64,
  issueId: 200,
  alertId: 256,
  project: 200,
} as const;

/** `19:…@thread.tacv2` channels and group chats, `a:…` personal chats, `8:…`/`29:…` users' chats: visible ASCII. */
export const TEAMS_CONVERSATION_ID = /^(19:|a:|8:|29:)[\x21-\x7e]+$/;
/** `29:…` Teams user ids (and `28:…` bots). */
export const TEAMS_USER_ID = /^[0-9]{1,2}:[\x21-\x7e]+$/;
export const TEAMS_ACTIVITY_ID = /^[\x21-\x7e]+$/;
export const TENANT_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const SLACK_TEAM_ID = /^[TE][A-Z0-9]{2,31}$/;
export const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{2,31}$/;
export const SLACK_USER_ID = /^[UWB][A-Z0-9]{2,31}$/;
export const SLACK_EVENT_ID = /^Ev[A-Za-z0-9]{1,62}$/;
/** Slack message timestamps: `1712345678.123456`. */
export const SLACK_TS = /^[0-9]{1,12}\.[0-9]{1,8}$/;
/** Issue ids end up in keys and in the issue API's URL path: no `/ \ # ?`. */
const ISSUE_ID_FORBIDDEN = /[/\\#?]/;

const matches = (pattern: RegExp, max: number) => (value: string) => value.length <= max && pattern.test(value) && keyLength(value) <= max;

export const isTeamsConversationId = matches(TEAMS_CONVERSATION_ID, ID_LIMITS.teamsConversationId);
export const isTeamsUserId = matches(TEAMS_USER_ID, ID_LIMITS.teamsUserId);
export const isTeamsActivityId = matches(TEAMS_ACTIVITY_ID, ID_LIMITS.teamsActivityId);
export const isTenantId = matches(TENANT_ID, 36);
export const isSlackTeamId = matches(SLACK_TEAM_ID, ID_LIMITS.slackId);
export const isSlackChannelId = matches(SLACK_CHANNEL_ID, ID_LIMITS.slackId);
export const isSlackUserId = matches(SLACK_USER_ID, ID_LIMITS.slackId);
export const isSlackEventId = matches(SLACK_EVENT_ID, ID_LIMITS.slackEventId);
export const isSlackTs = matches(SLACK_TS, 32);

export function isIssueId(value: string): boolean {
  return (
    value.length >= 1 && keyLength(value) <= ID_LIMITS.issueId && value.trim() === value && isPrintableText(value) && !ISSUE_ID_FORBIDDEN.test(value)
  );
}

/** A project's name keys its releases and subscriptions: printable, and at most ID_LIMITS.project as a key. */
export function isProjectName(value: string): boolean {
  return keyLength(value) <= ID_LIMITS.project && isPrintableText(value);
}

export const PROJECT_NAME_RULE = "no control characters or unpaired surrogates; at most 200 characters, counting / \\ # ? % as three";

export function isAlertId(value: string): boolean {
  return value.length >= 1 && keyLength(value) <= ID_LIMITS.alertId && value.trim() === value && isPrintableText(value);
}

/** Zod schemas for the same grammars, with messages that say what is expected. */
export const ids = {
  teamsConversationId: z
    .string()
    .max(ID_LIMITS.teamsConversationId)
    .regex(TEAMS_CONVERSATION_ID, "a Teams conversation id such as 19:…@thread.tacv2")
    .refine(isTeamsConversationId, `at most ${ID_LIMITS.teamsConversationId} characters, counting / \\ # ? % as three`),
  teamsUserId: z.string().max(ID_LIMITS.teamsUserId).regex(TEAMS_USER_ID, "a Teams user id such as 29:…"),
  tenantId: z.string().regex(TENANT_ID, "a tenant id (a GUID)"),
  slackTeamId: z.string().regex(SLACK_TEAM_ID, "a Slack team id such as T0123ABC"),
  slackChannelId: z.string().regex(SLACK_CHANNEL_ID, "a Slack channel id such as C0123ABC (ids, not names)"),
  slackUserId: z.string().regex(SLACK_USER_ID, "a Slack user id such as U0123ABC"),
  slackEventId: z.string().regex(SLACK_EVENT_ID, "a Slack event id such as Ev0123ABC"),
  issueId: z
    .string()
    .min(1)
    .max(ID_LIMITS.issueId)
    .refine(isIssueId, "no /, \\, #, ?, control characters, unpaired surrogates or surrounding spaces"),
  alertId: z
    .string()
    .min(1)
    .max(ID_LIMITS.alertId)
    .refine(isAlertId, "no control characters, unpaired surrogates or surrounding spaces; / \\ # ? % count as three characters"),
} as const;
