// The page's JSON API: every body is checked, every conversation and user must be one the page lists.
import { z } from "zod";
import type { TeamsUser } from "../emulators/teams";
import type { QueueStatus } from "../queues";
import type { Conversation, Directory } from "./directory";
import type { DiscordActions } from "./discord-actions";
import { HttpError } from "./http-error";
import type { SlackActions } from "./slack-actions";
import type { TeamsActions } from "./teams-actions";
import type { TestAlerts } from "./test-alert";
import type { Timeline } from "./timeline";

export interface RouteDeps {
  directory: Directory;
  timeline: Timeline;
  teams: TeamsActions;
  slack: SlackActions;
  /** Absent when the page runs without the Discord emulator. */
  discord?: DiscordActions;
  alerts: TestAlerts;
  /** The Queues view: what `npm run queues` shows, and re-queueing one poison message. */
  queues: { report(): Promise<QueueStatus[]>; requeue(poisonQueue: string, messageId: string): Promise<string> };
  slashCommand: string;
}

export type Route = (request: { query: URLSearchParams; body: unknown }) => Promise<unknown>;

/** What the browser learns of an app call: the status, and the body it may need (an invoke response card). */
export interface AppAnswer {
  status: number;
  body?: unknown;
  /** Slack or Discord gave up waiting (3 s). */
  timedOut?: boolean;
}

const text = z.string().trim().min(1).max(4000);
const schemas = {
  invoke: z.object({
    key: z.string(),
    as: z.string(),
    activityId: z.string(),
    verb: z.string().max(200),
    data: z.unknown(),
    actionId: z.string().max(200).optional(),
  }),
  submit: z.object({ key: z.string(), as: z.string(), activityId: z.string(), data: z.unknown() }),
  click: z.object({
    key: z.string(),
    as: z.string(),
    ts: z.string(),
    action: z.object({
      action_id: z.string().max(255),
      block_id: z.string().max(255).optional(),
      value: z.string().max(2000).optional(),
      selected_option: z.object({ value: z.string().max(150) }).optional(),
      selected_user: z.string().max(32).optional(),
    }),
  }),
  discordClick: z.object({
    key: z.string(),
    as: z.string(),
    messageId: z.string().max(32),
    customId: z.string().max(100),
    values: z.array(z.string().max(100)).max(25).optional(),
  }),
  say: z.object({ key: z.string(), as: z.string(), text }),
  install: z.object({ key: z.string(), as: z.string() }),
  alert: z.object({ key: z.string() }),
  requeue: z.object({ queue: z.string().max(100), messageId: z.string().max(100) }),
};

export function chatRoutes(deps: RouteDeps): Record<string, Route> {
  const { directory } = deps;
  const conversation = (key: string): Conversation => {
    const found = directory.find(key);
    if (!found) throw new HttpError(404, "No such conversation: it may be gone from the emulator.");
    return found;
  };
  const member = (where: Conversation, userId: string): string => {
    if (!where.people.some((p) => p.id === userId)) throw new HttpError(400, `Pick someone who can act in ${where.label}.`);
    return userId;
  };
  const teamsUser = (where: Conversation, userId: string): TeamsUser => {
    const user = directory.teamsUser(member(where, userId));
    if (!user) throw new HttpError(400, "No such Teams user.");
    return user;
  };
  const teamsRef = (where: Conversation) => {
    if (where.ref.platform !== "teams") throw new HttpError(400, "Not a Teams conversation.");
    return where.ref;
  };

  return {
    "GET /api/poll": async ({ query }) => {
      const conversations = directory.conversations();
      const selected = conversations.find((c) => c.key === query.get("c"));
      return {
        conversations,
        slashCommand: deps.slashCommand,
        timeline: selected ? deps.timeline.seenBy(selected, query.get("as") ?? undefined) : [],
      };
    },
    "POST /api/teams/invoke": async ({ body }) => {
      const input = parse(schemas.invoke, body);
      const where = conversation(input.key);
      const response = await deps.teams.invoke({ ...input, conversationId: teamsRef(where).conversationId, user: teamsUser(where, input.as) });
      return answer(response);
    },
    "POST /api/teams/submit": async ({ body }) => {
      const input = parse(schemas.submit, body);
      const where = conversation(input.key);
      const response = await deps.teams.submit({ ...input, conversationId: teamsRef(where).conversationId, user: teamsUser(where, input.as) });
      return answer(response);
    },
    "POST /api/teams/install": async ({ body }) => {
      const input = parse(schemas.install, body);
      const where = conversation(input.key);
      return answer(await deps.teams.install({ conversation: where, user: teamsUser(where, input.as) }));
    },
    "POST /api/slack/click": async ({ body }) => {
      const input = parse(schemas.click, body);
      const where = conversation(input.key);
      if (where.ref.platform !== "slack") throw new HttpError(400, "Not a Slack conversation.");
      const result = await deps.slack.click({ ...where.ref, ts: input.ts, userId: member(where, input.as), action: input.action });
      return answer(result);
    },
    "POST /api/discord/click": async ({ body }) => {
      const input = parse(schemas.discordClick, body);
      const where = conversation(input.key);
      if (where.ref.platform !== "discord" || !deps.discord) throw new HttpError(400, "Not a Discord conversation.");
      return answer(await deps.discord.click({ ...input, channelId: where.ref.channelId, userId: member(where, input.as) }));
    },
    "POST /api/say": async ({ body }) => {
      const input = parse(schemas.say, body);
      const where = conversation(input.key);
      if (where.ref.platform === "discord") {
        if (!deps.discord) throw new HttpError(400, "Not a Discord conversation.");
        const typed = input.text.replace(/^\//, "");
        const command = deps.slashCommand.replace(/^\//, "");
        const withoutCommand = typed.startsWith(`${command} `) || typed === command ? typed.slice(command.length) : typed;
        return answer(
          await deps.discord.slashCommand({ conversation: where, userId: member(where, input.as), command, text: withoutCommand.trim() }),
        );
      }
      if (where.ref.platform === "teams")
        return answer(await deps.teams.say({ conversation: where, user: teamsUser(where, input.as), text: input.text }));
      const withoutCommand = input.text.startsWith(`${deps.slashCommand} `) ? input.text.slice(deps.slashCommand.length + 1) : input.text;
      return answer(await deps.slack.slashCommand({ conversation: where, userId: member(where, input.as), text: withoutCommand.trim() }));
    },
    "POST /api/alert": async ({ body }) => deps.alerts.send(conversation(parse(schemas.alert, body).key).ref),
    "GET /api/queues": async () => ({ queues: await deps.queues.report() }),
    "POST /api/queues/requeue": async ({ body }) => {
      const input = parse(schemas.requeue, body);
      return { message: await deps.queues.requeue(input.queue, input.messageId) };
    },
  };
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) throw new HttpError(400, z.prettifyError(result.error));
  return result.data;
}

function answer(response: { status: number; body?: unknown; json?: unknown; timedOut?: boolean }): AppAnswer {
  const body = "json" in response ? response.json : response.body;
  return { status: response.status, ...(body === undefined ? {} : { body }), ...(response.timedOut ? { timedOut: true } : {}) };
}
