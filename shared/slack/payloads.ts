import { z } from "zod";

/** `block_actions`: the part we read. Parsed only after the signature checked out. */
export const blockActionsSchema = z.looseObject({
  type: z.literal("block_actions"),
  team: z.looseObject({ id: z.string().min(1) }).nullable().optional(),
  user: z.looseObject({ id: z.string().min(1), team_id: z.string().optional(), name: z.string().optional(), username: z.string().optional() }),
  api_app_id: z.string().optional(),
  trigger_id: z.string().optional(),
  response_url: z.url().optional(),
  container: z.looseObject({ type: z.string(), message_ts: z.string().optional(), channel_id: z.string().optional(), is_ephemeral: z.boolean().optional() }).optional(),
  channel: z.looseObject({ id: z.string() }).optional(),
  message: z.looseObject({ ts: z.string() }).optional(),
  actions: z
    .array(
      z.looseObject({
        action_id: z.string().max(255),
        block_id: z.string().max(255).optional(),
        type: z.string(),
        value: z.string().max(2000).optional(),
        selected_option: z.looseObject({ value: z.string().max(2000) }).nullable().optional(),
      }),
    )
    .min(1),
});
export type BlockActions = z.infer<typeof blockActionsSchema>;

/** A slash command's form fields. */
export const slashCommandSchema = z.looseObject({
  command: z.string().min(1),
  text: z.string().max(4000).default(""),
  team_id: z.string().min(1),
  channel_id: z.string().min(1),
  channel_name: z.string().optional(),
  user_id: z.string().min(1),
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
    team_id: z.string().min(1),
    event_id: z.string().min(1),
    event: z.looseObject({ type: z.string().min(1), bot_id: z.string().optional(), subtype: z.string().optional() }),
  }),
  z.looseObject({ type: z.literal("app_rate_limited"), team_id: z.string().optional() }),
]);
export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;
