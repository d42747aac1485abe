import { interactiveElements, isObject } from "./blocks";
import { slackTimestamp, systemClock } from "./clock";
import { tokens } from "./ids";
import { messageJson } from "./methods/chat";
import type { EmulatorState } from "./state";
import type { Channel, User, Workspace } from "./world";

export interface ActionInput {
  action_id: string;
  /** Default: the block holding the element with this action_id. */
  block_id?: string;
  /** Default: the element's own `value` (buttons). */
  value?: string;
  /** For selects and overflow menus; `text` is filled from the element's options when omitted. */
  selected_option?: { value: string; text?: unknown };
  /** For a `users_select`: the user picked (a user of the workspace); omitted = the choice was cleared (null). */
  selected_user?: string;
}

export interface BlockActionsInput {
  teamId: string;
  /** Id of the clicking user. */
  user: string;
  channel: string;
  messageTs: string;
  actions: ActionInput[];
}

export interface SlashCommandInput {
  teamId: string;
  user: string;
  channel: string;
  command: string;
  text?: string;
}

export interface EventCallbackInput {
  teamId: string;
  event: Record<string, unknown> & { type: string };
  eventId?: string;
  /** Unix seconds. */
  eventTime?: number;
}

export interface AppMentionInput {
  teamId: string;
  /** Who mentions the app: a person of the workspace, or a bot user (then the event carries a `bot_id`, as Slack's does). */
  user: string;
  channel: string;
  /** What they wrote after mentioning the app (the mention itself goes first, as `<@BOT_USER_ID>`). */
  text: string;
  /** Mentioned in a reply in this thread. */
  threadTs?: string;
  eventId?: string;
}

export type BlockActionsPayload = Record<string, unknown> & {
  type: "block_actions";
  trigger_id: string;
  response_url: string;
  actions: Record<string, unknown>[];
};

/** Payloads Slack would send to the app, with trigger_ids and response_urls registered in the emulator. */
export class PayloadBuilder {
  constructor(private readonly state: EmulatorState) {}

  blockActions(input: BlockActionsInput): BlockActionsPayload {
    const { workspace, user, channel } = this.lookup(input.teamId, input.user, input.channel);
    const message = this.state.messages.find(channel.id, input.messageTs);
    if (!message) throw new Error(`no message ${input.messageTs} in ${channel.id}`);
    const isEphemeral = message.ephemeral !== undefined;
    const elements = interactiveElements(message.blocks);
    const actionTs = slackTimestamp(systemClock);

    const actions = input.actions.map((action) => {
      const found = elements.find(
        (e) => e.element.action_id === action.action_id && (action.block_id === undefined || e.blockId === action.block_id),
      );
      if (!found) throw new Error(`message ${message.ts} has no element with action_id ${action.action_id}`);
      // Slack's user menu only offers people of the workspace (and its bots).
      if (
        found.element.type === "users_select" &&
        action.selected_user !== undefined &&
        this.state.world.user(action.selected_user)?.teamId !== workspace.id
      ) {
        throw new Error(`no user ${action.selected_user} in ${workspace.id} to pick`);
      }
      return actionJson(found.blockId, found.element, action, actionTs);
    });

    const responseUrl = this.state.interactions.issueResponseUrl({
      teamId: workspace.id,
      channel: channel.id,
      userId: user.id,
      messageTs: message.ts,
      ephemeralSource: isEphemeral,
    });
    return {
      type: "block_actions",
      user: { id: user.id, username: user.name, name: user.name, team_id: workspace.id },
      api_app_id: this.state.appId,
      token: this.state.verificationToken,
      container: { type: "message", message_ts: message.ts, channel_id: channel.id, is_ephemeral: isEphemeral },
      trigger_id: this.state.interactions.issueTrigger(workspace.id, user.id),
      team: { id: workspace.id, domain: workspace.domain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel.id, name: channelName(channel) },
      // Slack does not echo the content of ephemeral messages back.
      ...(isEphemeral ? {} : { message: messageJson(this.state, workspace, message) }),
      state: { values: {} },
      response_url: `${this.state.url}/response/${responseUrl.id}`,
      actions,
    };
  }

  /** The form fields of a slash command request. */
  slashCommand(input: SlashCommandInput): Record<string, string> {
    const { workspace, user, channel } = this.lookup(input.teamId, input.user, input.channel);
    const responseUrl = this.state.interactions.issueResponseUrl({ teamId: workspace.id, channel: channel.id, userId: user.id });
    return {
      token: this.state.verificationToken,
      team_id: workspace.id,
      team_domain: workspace.domain,
      channel_id: channel.id,
      channel_name: channelName(channel),
      user_id: user.id,
      user_name: user.name,
      command: input.command,
      text: escapeAsSlack(input.text ?? ""),
      api_app_id: this.state.appId,
      is_enterprise_install: "false",
      response_url: `${this.state.url}/response/${responseUrl.id}`,
      trigger_id: this.state.interactions.issueTrigger(workspace.id, user.id),
    };
  }

  /** An Events API `event_callback` envelope around `event`. */
  eventCallback(input: EventCallbackInput): Record<string, unknown> {
    const workspace = this.state.world.requireWorkspace(input.teamId);
    const eventTime = input.eventTime ?? Math.floor(Date.now() / 1000);
    return {
      token: this.state.verificationToken,
      team_id: workspace.id,
      context_team_id: workspace.id,
      context_enterprise_id: null,
      api_app_id: this.state.appId,
      event: { event_ts: `${eventTime}.000000`, ...input.event },
      type: "event_callback",
      event_id: input.eventId ?? tokens.eventId(),
      event_time: eventTime,
      authorizations: [{ enterprise_id: null, team_id: workspace.id, user_id: workspace.botUserId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
    };
  }

  /**
   * Someone writes "@app …" in a channel: the message is posted in the channel (as a person's, or a bot's) and the
   * `app_mention` event Slack then sends the app is returned, in its event_callback envelope.
   */
  appMention(input: AppMentionInput): Record<string, unknown> {
    const { workspace, user, channel } = this.lookup(input.teamId, input.user, input.channel);
    const text = `<@${workspace.botUserId}> ${input.text}`.trimEnd();
    const message = this.state.messages.post({
      channel: channel.id,
      teamId: workspace.id,
      user: user.id,
      text,
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
    });
    const byBot = user.isBot
      ? { bot_id: user.id === workspace.botUserId ? workspace.botId : botIdOf(user.id) }
      : { client_msg_id: tokens.requestId() };
    const event = {
      type: "app_mention",
      user: user.id,
      text,
      ts: message.ts,
      channel: channel.id,
      team: workspace.id,
      event_ts: message.ts,
      ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
      ...byBot,
    };
    const eventTime = Math.floor(Number(message.ts));
    return this.eventCallback({ teamId: workspace.id, event, eventTime, ...(input.eventId ? { eventId: input.eventId } : {}) });
  }

  private lookup(teamId: string, userId: string, channelId: string): { workspace: Workspace; user: User; channel: Channel } {
    const workspace = this.state.world.requireWorkspace(teamId);
    const user = this.state.world.user(userId);
    if (!user || user.teamId !== teamId) throw new Error(`no user ${userId} in ${teamId}`);
    const channel = this.state.world.channel(channelId);
    if (!channel || channel.teamId !== teamId) throw new Error(`no channel ${channelId} in ${teamId}`);
    return { workspace, user, channel };
  }
}

/** Another app's bot id, stable for its bot user. */
function botIdOf(botUserId: string): string {
  return `B${botUserId.slice(1)}`;
}

/** Slack escapes these three in all text it sends, what people typed in a slash command included. */
function escapeAsSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function channelName(channel: Channel): string {
  return channel.isIm ? "directmessage" : channel.name;
}

function actionJson(blockId: string, element: Record<string, unknown>, input: ActionInput, actionTs: string): Record<string, unknown> {
  const type = typeof element.type === "string" ? element.type : "button";
  const base = { type, block_id: blockId, action_id: input.action_id, action_ts: actionTs };
  if (type === "button") {
    const value = input.value ?? (typeof element.value === "string" ? element.value : undefined);
    return { ...base, text: element.text, ...(value !== undefined ? { value } : {}), ...(element.style ? { style: element.style } : {}) };
  }
  if (type === "users_select") {
    // As Slack sends it: the pick, plus the element's initial_user and placeholder when it has them.
    return {
      ...base,
      selected_user: input.selected_user ?? null,
      ...(typeof element.initial_user === "string" ? { initial_user: element.initial_user } : {}),
      ...(isObject(element.placeholder) ? { placeholder: element.placeholder } : {}),
    };
  }
  if (input.selected_option === undefined) return { ...base, selected_option: null };
  const option = findOption(element, input.selected_option.value);
  return { ...base, selected_option: { text: input.selected_option.text ?? option?.text, value: input.selected_option.value } };
}

function findOption(element: Record<string, unknown>, value: string): Record<string, unknown> | undefined {
  const groups = Array.isArray(element.option_groups) ? element.option_groups : [];
  const options = [
    ...(Array.isArray(element.options) ? element.options : []),
    ...groups.flatMap((g) => (isObject(g) && Array.isArray(g.options) ? g.options : [])),
  ];
  return options.find((o): o is Record<string, unknown> => isObject(o) && o.value === value);
}
