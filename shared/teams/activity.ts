import { z } from "zod";
import { ids, isTeamsActivityId, isTeamsConversationId } from "../domain/ids";

// Every id here that can become a storage key or a URL path segment is held to shared/domain/ids.ts at the
// edge (a 400), so nothing past it meets a key Table Storage refuses (that was a 500).
const conversationId = ids.teamsConversationId;
const activityId = z.string().refine(isTeamsActivityId, "a Teams activity id (visible ASCII, at most 200 characters)");
/** Entra object ids are GUIDs: the tenant id grammar. */
const entraObjectId = ids.tenantId;

const account = z.looseObject({
  id: z.string().min(1),
  name: z.string().optional(),
  aadObjectId: z.string().optional(),
});
/** The sender: their ids key identities and personal chats. */
const sender = account.extend({
  id: ids.teamsUserId,
  aadObjectId: entraObjectId.optional(),
});

/** The part of an inbound Bot Framework activity the bot reads; everything else passes through untouched. */
export const teamsActivitySchema = z
  .looseObject({
    type: z.string().min(1),
    id: activityId.optional(),
    name: z.string().optional(),
    channelId: z.string().min(1),
    serviceUrl: z.url(),
    from: sender,
    recipient: account,
    conversation: z.looseObject({
      id: conversationId,
      conversationType: z.string().optional(),
      tenantId: ids.tenantId.optional(),
      isGroup: z.boolean().optional(),
    }),
    text: z.string().max(10_000).optional(),
    value: z.unknown().optional(),
    replyToId: activityId.optional(),
    action: z.string().optional(),
    membersAdded: z.array(account).optional(),
    membersRemoved: z.array(account).optional(),
    entities: z.array(z.looseObject({ type: z.string() })).optional(),
    channelData: z
      .looseObject({
        tenant: z.looseObject({ id: ids.tenantId }).optional(),
        team: z.looseObject({ id: conversationId, name: z.string().optional() }).optional(),
        channel: z.looseObject({ id: conversationId, name: z.string().optional() }).optional(),
        eventType: z.string().optional(),
      })
      .optional(),
  })
  // What baseConversationId() returns is what gets stored: it must be an id on its own, not only with its `;messageid=`.
  .refine((activity) => activity.channelData?.channel !== undefined || isTeamsConversationId(activity.conversation.id.split(";")[0]!), {
    path: ["conversation", "id"],
    message: "the conversation id before ;messageid= is not a Teams conversation id",
  });

export type TeamsActivity = z.infer<typeof teamsActivitySchema>;

export function tenantOf(activity: TeamsActivity): string | undefined {
  return activity.channelData?.tenant?.id ?? activity.conversation.tenantId;
}

/** In channels, `conversation.id` carries `;messageid=…` for the thread; the channel itself is the part before it. */
export function baseConversationId(activity: TeamsActivity): string {
  return activity.channelData?.channel?.id ?? activity.conversation.id.split(";")[0]!;
}

export function conversationTypeOf(activity: TeamsActivity): "personal" | "channel" | "groupChat" {
  const type = activity.conversation.conversationType;
  if (type === "personal" || type === "groupChat" || type === "channel") return type;
  if (activity.channelData?.channel || activity.channelData?.team) return "channel";
  return activity.conversation.isGroup ? "groupChat" : "personal";
}

/** The message text without the bot's @mention, lower-cased command word first. */
export function commandText(activity: TeamsActivity): string {
  return (activity.text ?? "")
    .replace(/<at>[^<]*<\/at>/gi, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}
