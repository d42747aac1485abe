// Inbound activities in the shapes Teams sends them. Lifecycle builders also apply the event to
// the world (installing, removing, renaming), because in Teams the event follows the change:
// after posting botRemovedFromTeam, sends to that team fail as they would for real.
import { randomInt } from "node:crypto";
import type { World } from "./world.js";
import type { Activity, ConversationRef, TeamRef, TeamsChannel, TeamsConversation, TeamsUser } from "./types.js";

export interface ActivityContext {
  appId: string;
  botName: string;
  serviceUrl: string;
  world: World;
}

type UserRef = TeamsUser | string;

export interface MessageOptions {
  conversation: ConversationRef;
  from: UserRef;
  text?: string;
  /** Prefix `<at>Bot</at>` and add the mention entity. Default: true in channels and group chats
   * (Teams only delivers messages that @mention the bot there), false in personal chats. */
  mentionBot?: boolean;
  /** Action.Submit data: Teams sends it as `value` on a message activity. */
  value?: unknown;
  replyToId?: string;
}

export interface InvokeActionOptions {
  conversation: ConversationRef;
  from: UserRef;
  /** The activity id of the card that holds the button. */
  replyToId: string;
  verb: string;
  data?: unknown;
  actionId?: string;
  trigger?: "manual" | "automatic";
}

export class ActivityBuilder {
  constructor(private readonly ctx: ActivityContext) {}

  private get world(): World {
    return this.ctx.world;
  }

  botAddedToTeam(options: { team: TeamRef; from?: UserRef }): Activity {
    this.world.setBotInstalled(options.team, true);
    return this.teamEvent("teamMemberAdded", options, {
      membersAdded: [{ id: this.botId }],
      channelSettings: true,
    });
  }

  botRemovedFromTeam(options: { team: TeamRef; from?: UserRef }): Activity {
    this.world.setBotInstalled(options.team, false);
    return this.teamEvent("teamMemberRemoved", options, { membersRemoved: [{ id: this.botId }] });
  }

  /**
   * A member leaves the team or is removed from it. Teams names them in `membersRemoved` by their `29:` id only;
   * `withObjectId` adds their Entra object id, as some payloads carry. `from` defaults to a member still in the team
   * (else the one who left). `landsLater`: the event comes before the removal shows in member reads (they still
   * answer 200 there until `landRemovals()`), as when someone leaving the organisation is taken out of many teams at
   * once.
   */
  memberRemovedFromTeam(options: { team: TeamRef; user: UserRef; from?: UserRef; withObjectId?: boolean; landsLater?: boolean }): Activity {
    const user = this.world.requireUser(options.user);
    if (options.landsLater) this.world.removeTeamMemberLater(options.team, user);
    else this.world.removeTeamMember(options.team, user);
    const others = this.world.members(this.world.team(options.team).generalChannelId).filter((member) => member.id !== user.id);
    const from = options.from ?? others[0] ?? user;
    return this.teamEvent("teamMemberRemoved", { team: options.team, from }, { membersRemoved: [removedMember(user, options.withObjectId)] });
  }

  /**
   * The user's account is deleted from the tenant (they left the organisation): they drop out of every team, and
   * Teams sends `teamMemberRemoved` in each team where the bot is installed (one activity per team, in the order
   * the teams were made). See World.removeUser for what else changes.
   */
  userLeftOrganisation(options: { user: UserRef; withObjectId?: boolean }): Activity[] {
    const user = this.world.requireUser(options.user);
    const teams = this.world.teamsOf(user).filter((team) => this.world.botInstalled(team.generalChannelId));
    this.world.removeUser(user);
    return teams.map((team) => {
      const from = this.world.members(team.generalChannelId)[0];
      return this.teamEvent(
        "teamMemberRemoved",
        { team, ...(from ? { from } : {}) },
        { membersRemoved: [removedMember(user, options.withObjectId)] },
        // A team they were the last member of: the event comes from the account that is gone.
        { id: user.id, aadObjectId: user.aadObjectId },
      );
    });
  }

  teamRenamed(options: { team: TeamRef; name: string; from?: UserRef }): Activity {
    this.world.renameTeam(options.team, options.name);
    return this.teamEvent("teamRenamed", options);
  }

  teamDeleted(options: { team: TeamRef; from?: UserRef }): Activity {
    const activity = this.teamEvent("teamDeleted", options);
    this.world.deleteTeam(options.team);
    return activity;
  }

  /** For a channel made with addChannel. */
  channelCreated(options: { channel: TeamsChannel; from?: UserRef }): Activity {
    return this.teamEvent("channelCreated", { team: options.channel.teamId, ...options }, { channel: options.channel.id });
  }

  channelRenamed(options: { channel: TeamsChannel; name: string; from?: UserRef }): Activity {
    this.world.renameChannel(options.channel.id, options.name);
    return this.teamEvent("channelRenamed", { team: options.channel.teamId, ...options }, { channel: options.channel.id });
  }

  /** Teams sends no dedicated event for a personal install: a conversationUpdate adding the bot. */
  personalInstall(options: { user: UserRef }): Activity {
    const conversation = this.world.personalConversation(options.user);
    this.world.setBotInstalled(conversation.id, true);
    return {
      ...this.envelope("conversationUpdate", conversation, this.eventSender(options.user)),
      conversation: this.conversationAccount(conversation),
      membersAdded: [{ id: this.botId }],
      channelData: { tenant: { id: this.world.tenantId } },
    };
  }

  installationUpdate(options: { action: "add" | "remove" | "add-upgrade"; conversation: ConversationRef; from?: UserRef }): Activity {
    const conversation = this.world.conversation(options.conversation);
    this.world.setBotInstalled(conversation.id, options.action !== "remove");
    const from = options.from ?? this.world.members(conversation.id)[0];
    if (!from) throw new Error(`installationUpdate needs a 'from': ${conversation.id} has no members`);
    return {
      ...this.envelope("installationUpdate", conversation, this.eventSender(from)),
      conversation: this.conversationAccount(conversation),
      action: options.action,
      channelData: {
        ...(conversation.teamId ? { team: this.teamInfo(conversation.teamId) } : {}),
        tenant: { id: this.world.tenantId },
      },
    };
  }

  message(options: MessageOptions): Activity {
    const conversation = this.world.conversation(options.conversation);
    const id = this.world.nextActivityId();
    const mention = options.mentionBot ?? (conversation.type !== "personal" && options.value === undefined);
    const atBot = `<at>${this.ctx.botName}</at>`;
    const text = options.text === undefined ? undefined : mention ? `${atBot} ${options.text}` : options.text;
    const base = this.envelope("message", conversation, this.sender(options.from), id);
    return {
      ...base,
      conversation: this.conversationAccount(conversation, this.threadRoot(conversation, options.replyToId) ?? id),
      ...(text === undefined ? {} : { text, textFormat: "plain" }),
      ...(options.value === undefined ? {} : { value: options.value }),
      ...(options.replyToId === undefined ? {} : { replyToId: options.replyToId }),
      ...(mention
        ? {
            entities: [...(base.entities as unknown[]), { type: "mention", text: atBot, mentioned: { id: this.botId, name: this.ctx.botName } }],
          }
        : {}),
      channelData: this.messageChannelData(conversation),
    };
  }

  invokeAction(options: InvokeActionOptions): Activity {
    const conversation = this.world.conversation(options.conversation);
    return {
      ...this.envelope("invoke", conversation, this.sender(options.from)),
      conversation: this.conversationAccount(conversation, this.threadRoot(conversation, options.replyToId)),
      name: "adaptiveCard/action",
      value: {
        action: {
          type: "Action.Execute",
          ...(options.actionId === undefined ? {} : { id: options.actionId }),
          verb: options.verb,
          data: options.data ?? {},
        },
        trigger: options.trigger ?? "manual",
      },
      replyToId: options.replyToId,
      channelData: this.messageChannelData(conversation),
    };
  }

  private get botId(): string {
    return `28:${this.ctx.appId}`;
  }

  private teamEvent(
    eventType: string,
    options: { team: TeamRef; from?: UserRef },
    extra: { membersAdded?: unknown[]; membersRemoved?: unknown[]; channel?: string; channelSettings?: boolean } = {},
    senderOfEmptyTeam?: Record<string, unknown>,
  ): Activity {
    const team = this.world.team(options.team);
    const general = this.world.conversation(team.generalChannelId);
    const from = options.from ?? this.world.members(team.generalChannelId)[0];
    if (!from && !senderOfEmptyTeam) throw new Error(`${eventType} needs a 'from': team ${team.name} has no members`);
    const channel = extra.channel === undefined ? undefined : this.world.conversation(extra.channel);
    return {
      ...this.envelope("conversationUpdate", general, from ? this.eventSender(from) : senderOfEmptyTeam!),
      conversation: this.conversationAccount(general),
      ...(extra.membersAdded ? { membersAdded: extra.membersAdded } : {}),
      ...(extra.membersRemoved ? { membersRemoved: extra.membersRemoved } : {}),
      channelData: {
        ...(channel ? { channel: { id: channel.id, ...(channel.name ? { name: channel.name } : {}) } } : {}),
        team: this.teamInfo(team.teamId),
        eventType,
        ...(extra.channelSettings ? { settings: { selectedChannel: { id: team.generalChannelId } } } : {}),
        tenant: { id: this.world.tenantId },
      },
    };
  }

  private envelope(type: string, conversation: TeamsConversation, from: Record<string, unknown>, id?: string): Activity {
    const now = new Date().toISOString();
    return {
      type,
      id: id ?? (type === "conversationUpdate" ? `f:${randomInt(1e9, 1e10 - 1)}${randomInt(1e9, 1e10 - 1)}` : this.world.nextActivityId()),
      timestamp: now,
      localTimestamp: now.replace("Z", "+00:00"),
      channelId: "msteams",
      serviceUrl: this.ctx.serviceUrl,
      from,
      conversation: this.conversationAccount(conversation),
      recipient: { id: this.botId, name: this.ctx.botName },
      entities: [{ type: "clientInfo", locale: "en-US", country: "US", platform: "Web", timezone: "Etc/UTC" }],
      locale: "en-US",
    };
  }

  /** In a channel the conversation id names the thread: `19:…@thread.tacv2;messageid=<root>`. */
  private conversationAccount(conversation: TeamsConversation, threadRoot?: string): Record<string, unknown> {
    const id = conversation.type === "channel" && threadRoot ? `${conversation.id};messageid=${threadRoot}` : conversation.id;
    return {
      ...(conversation.type === "personal" ? {} : { isGroup: true }),
      conversationType: conversation.type,
      tenantId: conversation.tenantId,
      id,
    };
  }

  private messageChannelData(conversation: TeamsConversation): Record<string, unknown> {
    const tenant = { id: this.world.tenantId };
    if (conversation.type !== "channel" || !conversation.teamId) return { tenant };
    return {
      teamsChannelId: conversation.id,
      teamsTeamId: conversation.teamId,
      channel: { id: conversation.id },
      team: { id: conversation.teamId },
      tenant,
    };
  }

  /** A card the bot posted as a thread reply lives in that thread; anything else is its own root. */
  private threadRoot(conversation: TeamsConversation, replyToId: string | undefined): string | undefined {
    if (conversation.type !== "channel" || replyToId === undefined) return undefined;
    return this.world.message(conversation.id, replyToId)?.threadId ?? replyToId;
  }

  private teamInfo(teamId: string): Record<string, unknown> {
    const team = this.world.team(teamId);
    return { id: team.teamId, name: team.name, aadGroupId: team.aadGroupId };
  }

  private sender(ref: UserRef): Record<string, unknown> {
    const user = this.world.requireUser(ref);
    return { id: user.id, name: user.name, aadObjectId: user.aadObjectId };
  }

  /** conversationUpdate and installationUpdate senders carry no display name. */
  private eventSender(ref: UserRef): Record<string, unknown> {
    const user = this.world.requireUser(ref);
    return { id: user.id, aadObjectId: user.aadObjectId };
  }
}

/** How `membersRemoved` names a member who left: by the `29:` id, the Entra object id only when asked. */
function removedMember(user: TeamsUser, withObjectId = false): Record<string, unknown> {
  return withObjectId ? { id: user.id, aadObjectId: user.aadObjectId } : { id: user.id };
}
