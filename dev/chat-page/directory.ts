// Where the page can look and whom it can act as: Teams from the emulator's world, Slack from the
// people and channels it was given plus every channel the bot posted in, Discord from its emulator's
// guilds, channels and users.
import type { DiscordEmulator } from "../emulators/discord";
import type { SlackEmulator } from "../emulators/slack";
import type { TeamsEmulator, TeamsUser } from "../emulators/teams";

export interface SlackWorkspacePeople {
  teamId: string;
  /** Shown in the sidebar; default the team id. */
  name?: string;
  /** Display name → user id: whom you can act as. */
  users: Record<string, string>;
  /** Display name → channel id: listed before the bot posts there. */
  channels?: Record<string, string>;
}

export type ConversationRef =
  | { platform: "teams"; conversationId: string }
  | { platform: "slack"; teamId: string; channel: string }
  /** `guildId`: absent for a DM. */
  | { platform: "discord"; guildId?: string; channelId: string };

export interface Person {
  id: string;
  name: string;
}

export interface Conversation {
  /** `teams:<conversation id>`, `slack:<team id>:<channel id>` or `discord:<channel id>`. */
  key: string;
  ref: ConversationRef;
  /** The sidebar heading it sits under: a team, the chats, a workspace. */
  group: string;
  label: string;
  kind: "channel" | "personal" | "groupChat" | "dm";
  /** Who can act here: in a 1:1 chat, only its member. */
  people: Person[];
  /** Slack, Discord servers: everyone a user menu offers in the workspace or server, bots included. */
  pickable?: (Person & { bot?: boolean })[];
}

export function conversationKey(ref: ConversationRef): string {
  if (ref.platform === "discord") return `discord:${ref.channelId}`;
  return ref.platform === "teams" ? `teams:${ref.conversationId}` : `slack:${ref.teamId}:${ref.channel}`;
}

export class Directory {
  constructor(
    private readonly teams: TeamsEmulator,
    private readonly slack: SlackEmulator,
    private readonly slackPeople: readonly SlackWorkspacePeople[],
    private readonly discord?: DiscordEmulator,
  ) {}

  conversations(): Conversation[] {
    return [...this.teamsConversations(), ...this.slackConversations(), ...this.discordConversations()];
  }

  find(key: string): Conversation | undefined {
    return this.conversations().find((c) => c.key === key);
  }

  teamsUser(id: string): TeamsUser | undefined {
    return this.teams.snapshot().users.find((u) => u.id === id);
  }

  slackUserName(teamId: string, userId: string): string | undefined {
    const users = this.slackPeople.find((w) => w.teamId === teamId)?.users ?? {};
    return Object.entries(users).find(([, id]) => id === userId)?.[0];
  }

  private teamsConversations(): Conversation[] {
    const world = this.teams.snapshot();
    const everyone = world.users.map(person);
    const channels = world.teams.flatMap((team) =>
      team.channels.map((channel) => teamsConversation(channel.id, `Teams · ${team.name}`, channel.name ?? "General", "channel", everyone)),
    );
    // Every Teams user has a 1:1 chat with the bot. Asking the emulator for its id also creates its record,
    // which is harmless: the app gets the same conversation when it opens the chat itself.
    const personal = world.users.map((user) =>
      teamsConversation(this.teams.personalConversation(user).id, "Teams · Chats", user.name, "personal", [person(user)]),
    );
    const groupChats = world.conversations
      .filter((c) => c.type === "groupChat")
      .map((c, i) => teamsConversation(c.id, "Teams · Chats", `Group chat ${i + 1}`, "groupChat", everyone));
    return [...channels, ...personal, ...groupChats];
  }

  private slackConversations(): Conversation[] {
    const posted = new Map<string, Set<string>>();
    for (const message of this.slack.messages()) {
      const channels = posted.get(message.teamId) ?? new Set<string>();
      posted.set(message.teamId, channels.add(message.channel));
    }
    const workspaces = [...this.slackPeople];
    for (const teamId of posted.keys()) {
      if (!workspaces.some((w) => w.teamId === teamId)) workspaces.push({ teamId, users: {} });
    }
    return workspaces.flatMap((workspace) => {
      const group = `Slack · ${workspace.name ?? workspace.teamId}`;
      const people = Object.entries(workspace.users).map(([name, id]) => ({ id, name }));
      const pickable = this.workspaceUsers(workspace.teamId, people);
      const named = Object.entries(workspace.channels ?? {}).map(([name, channel]) => ({ channel, label: name.replace(/^#/, "") }));
      const others = [...(posted.get(workspace.teamId) ?? [])]
        .filter((channel) => !named.some((n) => n.channel === channel))
        .map((channel) => ({ channel, label: channel.startsWith("D") ? `Direct message ${channel}` : channel }));
      return [...named, ...others].map(({ channel, label }) => ({
        key: conversationKey({ platform: "slack", teamId: workspace.teamId, channel }),
        ref: { platform: "slack" as const, teamId: workspace.teamId, channel },
        group,
        label,
        kind: channel.startsWith("D") ? ("dm" as const) : ("channel" as const),
        people,
        pickable,
      }));
    });
  }

  /**
   * Every guild's text channels (anyone may act there; a user select offers every member, bots last: the emulator
   * puts every user in every guild), then the bot's DMs (only their recipient).
   */
  private discordConversations(): Conversation[] {
    if (!this.discord) return [];
    const users = [...this.discord.users.values()];
    const everyone = users.map((u) => ({ id: u.id, name: u.globalName || u.username }));
    const members = [...users.filter((u) => !u.bot), ...users.filter((u) => u.bot)].map((u) => ({
      id: u.id,
      name: u.globalName || u.username,
      ...(u.bot ? { bot: true } : {}),
    }));
    const channels = [...this.discord.channels.values()];
    const inGuilds = [...this.discord.guilds.values()].flatMap((guild) =>
      channels
        .filter((channel) => channel.type === 0 && channel.guildId === guild.id)
        .map((channel) =>
          discordConversation({ guildId: guild.id, channelId: channel.id }, `Discord · ${guild.name}`, channel.name, "channel", everyone, members),
        ),
    );
    const dms = channels
      .filter((channel) => channel.type === 1)
      .map((channel) => {
        const recipient = everyone.filter((p) => p.id === channel.recipientId);
        return discordConversation({ channelId: channel.id }, "Discord · Direct messages", recipient[0]?.name ?? channel.name, "dm", recipient);
      });
    return [...inGuilds, ...dms];
  }

  /** The workspace's users as the emulator knows them (names from `people.slack` first), bots last. */
  private workspaceUsers(teamId: string, named: Person[]): (Person & { bot?: boolean })[] {
    let users;
    try {
      users = this.slack.users(teamId);
    } catch {
      return named;
    }
    const name = (id: string, fallback: string) => named.find((p) => p.id === id)?.name ?? fallback;
    return [...users.filter((u) => !u.isBot), ...users.filter((u) => u.isBot)].map((u) => ({
      id: u.id,
      name: name(u.id, u.realName || u.name),
      ...(u.isBot ? { bot: true } : {}),
    }));
  }
}

function person(user: TeamsUser): Person {
  return { id: user.id, name: user.name };
}

function teamsConversation(conversationId: string, group: string, label: string, kind: Conversation["kind"], people: Person[]): Conversation {
  return { key: conversationKey({ platform: "teams", conversationId }), ref: { platform: "teams", conversationId }, group, label, kind, people };
}

function discordConversation(
  where: { guildId?: string; channelId: string },
  group: string,
  label: string,
  kind: Conversation["kind"],
  people: Person[],
  pickable?: (Person & { bot?: boolean })[],
): Conversation {
  const ref: ConversationRef = { platform: "discord", ...where };
  return { key: conversationKey(ref), ref, group, label, kind, people, ...(pickable ? { pickable } : {}) };
}
