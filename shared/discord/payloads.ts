import type { APIInteractionResponse, InteractionResponseType as ResponseType, InteractionType as RequestType } from "discord-api-types/v10";
import { z } from "zod";

// discord-api-types' enums are values in a CommonJS module that brings all of its v10 API (150 KB the app
// would compile on every cold start): only its types are imported, the few numbers are spelt out here.

/** Interaction types (Discord: Interaction Object → Interaction Type). */
export const InteractionType = {
  Ping: 1 as RequestType.Ping,
  ApplicationCommand: 2 as RequestType.ApplicationCommand,
  MessageComponent: 3 as RequestType.MessageComponent,
} as const;

/** Interaction callback types (Discord: Interaction Response Object → Interaction Callback Type). */
export const InteractionResponseType = {
  Pong: 1 as ResponseType.Pong,
  ChannelMessageWithSource: 4 as ResponseType.ChannelMessageWithSource,
  DeferredChannelMessageWithSource: 5 as ResponseType.DeferredChannelMessageWithSource,
  DeferredMessageUpdate: 6 as ResponseType.DeferredMessageUpdate,
  UpdateMessage: 7 as ResponseType.UpdateMessage,
} as const;

// The parts of Discord's interaction payloads the app reads (discord-api-types has the full wire types).

export const snowflake = z.string().regex(/^\d{17,20}$/, "a Discord snowflake");

const user = z.object({ id: snowflake, username: z.string().max(100), global_name: z.string().max(100).nullish() });

const subcommandOption = z.object({
  name: z.string().max(32),
  type: z.literal(1),
  options: z
    .array(z.object({ name: z.string().max(32), type: z.number(), value: z.union([z.string().max(500), z.number(), z.boolean()]) }))
    .max(25)
    .optional(),
});

const base = {
  id: snowflake,
  application_id: snowflake,
  token: z.string().min(1).max(500),
  guild_id: snowflake.optional(),
  channel_id: snowflake.optional(),
  member: z.object({ user }).optional(),
  user: user.optional(),
};

export const pingSchema = z.object({ type: z.literal(InteractionType.Ping) });

export const componentInteractionSchema = z.object({
  ...base,
  type: z.literal(InteractionType.MessageComponent),
  message: z.object({ id: snowflake, channel_id: snowflake }),
  data: z.object({
    custom_id: z.string().max(100),
    component_type: z.number(),
    values: z.array(z.string().max(100)).max(25).optional(),
    // A user select's picks, as Discord resolves them: their users, and in a server their members (for nicknames).
    resolved: z
      .object({
        users: z.record(snowflake, user.extend({ bot: z.boolean().optional() })).optional(),
        members: z.record(snowflake, z.object({ nick: z.string().max(100).nullish() })).optional(),
      })
      .optional(),
  }),
});

export const commandInteractionSchema = z.object({
  ...base,
  type: z.literal(InteractionType.ApplicationCommand),
  data: z.object({ name: z.string().max(32), options: z.array(subcommandOption).max(25).optional() }),
});

export type ComponentInteraction = z.infer<typeof componentInteractionSchema>;
export type CommandInteraction = z.infer<typeof commandInteractionSchema>;

/** Who sent an interaction: `member.user` in a guild, `user` in a DM. */
export function interactionUser(interaction: ComponentInteraction | CommandInteraction): z.infer<typeof user> | undefined {
  return interaction.member?.user ?? interaction.user;
}

export const EPHEMERAL = 64;

export const pong = (): APIInteractionResponse => ({ type: InteractionResponseType.Pong });

export const ephemeral = (content: string): APIInteractionResponse => ({
  type: InteractionResponseType.ChannelMessageWithSource,
  data: { content: content.slice(0, 2000), flags: EPHEMERAL, allowed_mentions: { parse: [] } },
});
