import { z } from "zod";
import { ids, SLACK_TS } from "../domain/ids";

/** Message and action timestamps (`1712345678.123456`): they end up in keys, so they are held to the grammar. */
const slackTs = z.string().max(32).regex(SLACK_TS, "a Slack timestamp such as 1712345678.123456");

/** `block_actions`: the part we read. Parsed only after the signature checked out. */
export const blockActionsSchema = z.looseObject({
  type: z.literal("block_actions"),
  team: z.looseObject({ id: ids.slackTeamId }).nullable().optional(),
  user: z.looseObject({ id: ids.slackUserId, team_id: ids.slackTeamId.optional(), name: z.string().optional(), username: z.string().optional() }),
  api_app_id: z.string().optional(),
  trigger_id: z.string().optional(),
  response_url: z.url().optional(),
  container: z
    .looseObject({
      type: z.string(),
      message_ts: slackTs.optional(),
      channel_id: ids.slackChannelId.optional(),
      is_ephemeral: z.boolean().optional(),
    })
    .optional(),
  channel: z.looseObject({ id: ids.slackChannelId }).optional(),
  message: z.looseObject({ ts: slackTs }).optional(),
  actions: z
    .array(
      z.looseObject({
        action_id: z.string().max(255),
        block_id: z.string().max(255).optional(),
        action_ts: slackTs.optional(),
        type: z.string(),
        value: z.string().max(2000).optional(),
        selected_option: z
          .looseObject({ value: z.string().max(2000) })
          .nullable()
          .optional(),
        // users_select (the Assign menu); null when the choice was cleared.
        selected_user: ids.slackUserId.nullable().optional(),
      }),
    )
    .min(1),
});
export type BlockActions = z.infer<typeof blockActionsSchema>;

/** A slash command's form fields. */
export const slashCommandSchema = z.looseObject({
  command: z.string().min(1),
  text: z.string().max(4000).default(""),
  team_id: ids.slackTeamId,
  channel_id: ids.slackChannelId,
  channel_name: z.string().optional(),
  user_id: ids.slackUserId,
  user_name: z.string().optional(),
  response_url: z.url().optional(),
  trigger_id: z.string().optional(),
});
export type SlashCommand = z.infer<typeof slashCommandSchema>;

/** The Events API envelope. */
export const eventEnvelopeSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("url_verification"), challenge: z.string().min(1).max(500) }),
  z.looseObject({
    type: z.literal("event_callback"),
    team_id: ids.slackTeamId,
    event_id: ids.slackEventId,
    event: z.looseObject({ type: z.string().min(1), bot_id: z.string().optional(), subtype: z.string().optional() }),
  }),
  z.looseObject({ type: z.literal("app_rate_limited"), team_id: z.string().optional() }),
]);
export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;
