import { z } from "zod";
import type { IssueAction } from "../domain/actions";
import { isIssueId } from "../domain/ids";
import { CardRepository, type CardCopy } from "../storage/cards";
import type { StorageClients } from "../storage/clients";
import { ActivityRepository, IssueRepository, OutboxFullError } from "../storage/issues";
import { actOnIssue } from "./issue-actions";

const email = z.email().max(254);
const actor = email.transform((address) => address.toLowerCase());

/** PATCH /api/issues/{id}: the same actions as the cards, by a named person. */
export const issuePatchSchema = z.discriminatedUnion("action", [
  // Without `inRelease`: resolved immediately. In a release: refused (409) when the issue's alerts name no release.
  z.strictObject({ action: z.literal("resolve"), actor, inRelease: z.enum(["current", "next"]).optional() }),
  z.strictObject({ action: z.enum(["unresolve", "unignore", "unassign"]), actor }),
  z.strictObject({
    action: z.literal("ignore"),
    actor,
    ignore: z.discriminatedUnion("mode", [
      z.strictObject({ mode: z.literal("forever") }),
      z.strictObject({ mode: z.literal("minutes"), minutes: z.number().int().positive() }),
      z.strictObject({ mode: z.literal("events"), count: z.number().int().positive() }),
      z.strictObject({ mode: z.literal("users"), count: z.number().int().positive() }),
    ]),
  }),
  z.strictObject({ action: z.literal("assign"), actor, assignee: z.union([z.literal("me"), email]) }),
]);
export type IssuePatch = z.infer<typeof issuePatchSchema>;

export type ApiAnswer = { status: number; body: unknown };

export async function getIssue(storage: StorageClients, issueId: string): Promise<ApiAnswer> {
  if (!isIssueId(issueId)) return notAnIssueId();
  const stored = await new IssueRepository(storage).get(issueId);
  if (!stored) return notFound(issueId);
  const [activities, cards] = await Promise.all([new ActivityRepository(storage).list(issueId, 20), new CardRepository(storage).list(issueId)]);
  return { status: 200, body: { issue: stored.issue, activities, cards: cards.map(publicCard) } };
}

export async function patchIssue(storage: StorageClients, issueId: string, body: unknown): Promise<ApiAnswer> {
  if (!isIssueId(issueId)) return notAnIssueId();
  const parsed = issuePatchSchema.safeParse(body);
  if (!parsed.success) {
    return {
      status: 400,
      body: {
        error: "The request does not match the issue action schema.",
        issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      },
    };
  }
  const patch = parsed.data;
  let outcome: Awaited<ReturnType<typeof actOnIssue>>;
  try {
    outcome = await actOnIssue(storage, issueId, toAction(patch), { person: { email: patch.actor }, label: patch.actor, surface: "api" });
  } catch (error) {
    // Not a failure of the request: earlier changes must be announced first. Nothing was changed.
    if (error instanceof OutboxFullError)
      return { status: 503, body: { error: "This issue has changes still waiting to be announced. Nothing was changed; try again in a minute." } };
    throw error;
  }
  switch (outcome.kind) {
    case "not-found":
      return notFound(issueId);
    case "refused":
      return { status: 409, body: { error: outcome.reason } };
    case "unchanged":
      return { status: 200, body: { changed: false, message: outcome.message, issue: outcome.issue } };
    case "changed":
      return { status: 200, body: { changed: true, message: outcome.message, issue: outcome.issue } };
  }
}

function toAction(patch: IssuePatch): IssueAction {
  switch (patch.action) {
    case "ignore":
      return { type: "ignore", ignore: patch.ignore };
    case "assign":
      return { type: "assign", assignee: patch.assignee === "me" ? "me" : { email: patch.assignee } };
    case "resolve":
      return patch.inRelease ? { type: "resolve", inRelease: patch.inRelease } : { type: "resolve" };
    default:
      return { type: patch.action };
  }
}

/** Storage would refuse such a key (too long, a lone surrogate): say so rather than fail. */
function notAnIssueId(): ApiAnswer {
  return { status: 400, body: { error: "That is not an issue id: 1 to 200 characters, no /, \\, #, ?, control characters or surrounding spaces." } };
}

function notFound(issueId: string): ApiAnswer {
  return { status: 404, body: { error: `There is no issue ${issueId}.` } };
}

function publicCard(card: CardCopy) {
  const where =
    card.provider === "discord"
      ? { channelId: card.channelId, messageId: card.messageId }
      : card.provider === "msteams"
        ? { conversationId: card.conversationId, activityId: card.activityId }
        : { teamId: card.teamId, channel: card.channel, ts: card.ts };
  return {
    provider: card.provider,
    ...where,
    renderedVersion: card.renderedVersion,
    postedAt: card.postedAt,
    ...(card.dead ? { dead: card.dead } : {}),
  };
}
