import { z } from "zod";

const account = z.looseObject({
  id: z.string().min(1),
  name: z.string().optional(),
  aadObjectId: z.string().optional(),
});

/** The part of an inbound Bot Framework activity the bot reads; everything else passes through untouched. */
export const teamsActivitySchema = z.looseObject({
  type: z.string().min(1),
  id: z.string().optional(),
  name: z.string().optional(),
  channelId: z.string().min(1),
  serviceUrl: z.url(),
  from: account,
  recipient: account,
  conversation: z.looseObject({
    id: z.string().min(1),
    conversationType: z.string().optional(),
    tenantId: z.string().optional(),
    isGroup: z.boolean().optional(),
  }),
  text: z.string().max(10_000).optional(),
  value: z.unknown().optional(),
  replyToId: z.string().optional(),
  action: z.string().optional(),
  membersAdded: z.array(account).optional(),
  membersRemoved: z.array(account).optional(),
  entities: z.array(z.looseObject({ type: z.string() })).optional(),
  channelData: z
    .looseObject({
      tenant: z.looseObject({ id: z.string() }).optional(),
      team: z.looseObject({ id: z.string(), name: z.string().optional() }).optional(),
      channel: z.looseObject({ id: z.string(), name: z.string().optional() }).optional(),
      eventType: z.string().optional(),
    })
    .optional(),
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
