import { slackId, stableSlackId } from "./ids";

/** Bot scopes an installation gets unless told otherwise: the alert-card set from the Slack notes, plus `im:write`. */
export const DEFAULT_BOT_SCOPES: readonly string[] = [
  "chat:write",
  "chat:write.public",
  "chat:write.customize",
  "commands",
  "channels:read",
  "groups:read",
  "im:read",
  "im:write",
  "im:history",
  "users:read",
  "users:read.email",
  "team:read",
  "links:read",
  "links:write",
];

export interface Workspace {
  id: string;
  name: string;
  domain: string;
  botUserId: string;
  botId: string;
  botName: string;
  rotation: boolean;
}

export interface Channel {
  id: string;
  teamId: string;
  name: string;
  isPrivate: boolean;
  isIm: boolean;
  isMpim: boolean;
  archived: boolean;
  botIsMember: boolean;
  /** Human members; `undefined` means every user of the workspace. */
  members?: Set<string>;
  /** The other party of a DM. */
  imUser?: string;
  created: number;
}

export interface User {
  id: string;
  teamId: string;
  name: string;
  realName: string;
  displayName: string;
  email?: string;
  emailVerified: boolean;
  isBot: boolean;
}

export interface AddChannelInput {
  id?: string;
  name: string;
  isPrivate?: boolean;
  archived?: boolean;
  botIsMember?: boolean;
  /** User ids; default: every user of the workspace is a member. */
  members?: string[];
}

export interface AddUserInput {
  id?: string;
  name: string;
  realName?: string;
  displayName?: string;
  email?: string;
  emailVerified?: boolean;
  isBot?: boolean;
}

/** Workspaces, channels and users: the part of Slack that tests arrange and the Web API reads. */
export class World {
  private readonly workspaces = new Map<string, Workspace>();
  private readonly channels = new Map<string, Channel>();
  private readonly users = new Map<string, User>();

  addWorkspace(input: { id?: string; name: string; botName?: string; rotation?: boolean }): Workspace {
    const id = input.id ?? slackId("T");
    if (!/^T[A-Z0-9]+$/.test(id)) throw new Error(`workspace id must look like T…, got ${id}`);
    if (this.workspaces.has(id)) throw new Error(`workspace ${id} already exists`);
    const botName = input.botName ?? "triage-relay";
    const workspace: Workspace = {
      id,
      name: input.name,
      domain:
        input.name
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, "-")
          .replace(/^-|-$/g, "") || id.toLowerCase(),
      botUserId: slackId("U"),
      botId: slackId("B"),
      botName,
      rotation: input.rotation ?? false,
    };
    this.workspaces.set(id, workspace);
    this.users.set(workspace.botUserId, {
      id: workspace.botUserId,
      teamId: id,
      name: botName,
      realName: botName,
      displayName: botName,
      emailVerified: false,
      isBot: true,
    });
    return workspace;
  }

  workspace(teamId: string): Workspace | undefined {
    return this.workspaces.get(teamId);
  }

  requireWorkspace(teamId: string): Workspace {
    const workspace = this.workspaces.get(teamId);
    if (!workspace) throw new Error(`unknown workspace ${teamId}`);
    return workspace;
  }

  firstWorkspace(): Workspace | undefined {
    return this.workspaces.values().next().value;
  }

  addChannel(teamId: string, input: AddChannelInput): Channel {
    this.requireWorkspace(teamId);
    const id = input.id ?? slackId("C");
    if (!/^[CG][A-Z0-9]+$/.test(id)) throw new Error(`channel id must look like C…, got ${id}`);
    if (this.channels.has(id)) throw new Error(`channel ${id} already exists`);
    const channel: Channel = {
      id,
      teamId,
      name: input.name.replace(/^#/, ""),
      isPrivate: input.isPrivate ?? false,
      isIm: false,
      isMpim: false,
      archived: input.archived ?? false,
      botIsMember: input.botIsMember ?? true,
      members: input.members ? new Set(input.members) : undefined,
      created: Math.floor(Date.now() / 1000),
    };
    this.channels.set(id, channel);
    return channel;
  }

  addUser(teamId: string, input: AddUserInput): User {
    this.requireWorkspace(teamId);
    const id = input.id ?? slackId("U");
    if (!/^[UW][A-Z0-9]+$/.test(id)) throw new Error(`user id must look like U…, got ${id}`);
    if (this.users.has(id)) throw new Error(`user ${id} already exists`);
    const user: User = {
      id,
      teamId,
      name: input.name,
      realName: input.realName ?? input.name,
      displayName: input.displayName ?? input.name,
      email: input.email,
      emailVerified: input.emailVerified ?? input.email !== undefined,
      isBot: input.isBot ?? false,
    };
    this.users.set(id, user);
    return user;
  }

  channel(channelId: string): Channel | undefined {
    return this.channels.get(channelId);
  }

  channelsOf(teamId: string): Channel[] {
    return [...this.channels.values()].filter((c) => c.teamId === teamId);
  }

  channelByName(teamId: string, name: string): Channel | undefined {
    const bare = name.replace(/^#/, "");
    return this.channelsOf(teamId).find((c) => !c.isIm && c.name === bare);
  }

  user(userId: string): User | undefined {
    return this.users.get(userId);
  }

  usersOf(teamId: string): User[] {
    return [...this.users.values()].filter((u) => u.teamId === teamId);
  }

  userByEmail(teamId: string, email: string): User | undefined {
    const wanted = email.trim().toLowerCase();
    return [...this.users.values()].find((u) => u.teamId === teamId && u.email?.toLowerCase() === wanted);
  }

  firstHuman(teamId: string): User | undefined {
    return [...this.users.values()].find((u) => u.teamId === teamId && !u.isBot);
  }

  isMember(channel: Channel, userId: string): boolean {
    if (channel.isIm) return channel.imUser === userId;
    return channel.members ? channel.members.has(userId) : this.user(userId)?.teamId === channel.teamId;
  }

  /** The id of the app's DM with a user: one per (workspace, user), stable across runs. */
  imId(teamId: string, userId: string): string {
    return stableSlackId("D", `${teamId}:${userId}`);
  }

  openIm(teamId: string, userId: string): { channel: Channel; created: boolean } {
    const id = this.imId(teamId, userId);
    const existing = this.channels.get(id);
    if (existing) return { channel: existing, created: false };
    const channel: Channel = {
      id,
      teamId,
      name: userId,
      isPrivate: true,
      isIm: true,
      isMpim: false,
      archived: false,
      botIsMember: true,
      imUser: userId,
      created: Math.floor(Date.now() / 1000),
    };
    this.channels.set(id, channel);
    return { channel, created: true };
  }

  openMpim(teamId: string, userIds: string[]): { channel: Channel; created: boolean } {
    const sorted = [...userIds].sort();
    const id = stableSlackId("G", `${teamId}:${sorted.join(",")}`);
    const existing = this.channels.get(id);
    if (existing) return { channel: existing, created: false };
    const channel: Channel = {
      id,
      teamId,
      name: `mpdm-${sorted.map((u) => this.user(u)?.name ?? u).join("--")}-1`,
      isPrivate: true,
      isIm: false,
      isMpim: true,
      archived: false,
      botIsMember: true,
      members: new Set(sorted),
      created: Math.floor(Date.now() / 1000),
    };
    this.channels.set(id, channel);
    return { channel, created: true };
  }
}
