import { createHash } from "node:crypto";
import { baseConversationId } from "./faults.js";
import type { ConversationRef, ConversationType, StoredMessage, TeamRef, TeamsChannel, TeamsConversation, TeamsTeam, TeamsUser } from "./types.js";

export interface NewUser {
  email: string;
  name: string;
  aadObjectId?: string;
  upn?: string;
}

interface TeamRecord {
  id: string;
  name: string;
  aadGroupId: string;
  memberIds: string[];
  channels: { id: string; name?: string }[];
  botInstalled: boolean;
}

interface ConversationRecord {
  id: string;
  type: ConversationType;
  /** Channels take members and installation from their team. */
  teamId?: string;
  memberIds: string[];
  botInstalled: boolean;
}

function refId(ref: ConversationRef | TeamRef): string {
  if (typeof ref === "string") return ref;
  if ("id" in ref) return ref.id;
  return "generalChannelId" in ref ? ref.generalChannelId : ref.teamId;
}

/**
 * Ids are derived, not random: the same app, tenant and sequence of calls give the same ids, so `npm start`
 * keeps its demo team, channels and people across restarts while Azurite keeps the data that names them.
 */
function derived(...parts: string[]): Buffer {
  return createHash("sha256").update(parts.join("|")).digest();
}

/** A GUID (version 4 layout) from a hash, for Entra object and group ids. */
function derivedGuid(...parts: string[]): string {
  const hex = derived(...parts).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Users, teams, conversations and the messages the bot posted in them. */
export class World {
  private readonly users = new Map<string, TeamsUser>();
  private readonly teams = new Map<string, TeamRecord>();
  private readonly conversations = new Map<string, ConversationRecord>();
  private readonly messageList: StoredMessage[] = [];
  private readonly messageListeners = new Set<(message: StoredMessage) => void>();
  private lastActivityId = 0;
  /** Counts teams, channels and group chats made, for their derived ids. */
  private threadsMade = 0;
  private readonly removalsNotLanded: { teamId: string; userId: string }[] = [];

  constructor(
    private readonly appId: string,
    readonly tenantId: string,
  ) {}

  addUser(input: NewUser): TeamsUser {
    for (const key of [input.email, input.upn, input.aadObjectId]) {
      if (key !== undefined && this.findUser(key)) throw new Error(`A user with ${key} already exists`);
    }
    const [givenName, ...rest] = input.name.trim().split(/\s+/);
    const user: TeamsUser = {
      id: `29:1${derived(this.appId, this.tenantId, "user", input.email.toLowerCase()).toString("base64url")}`,
      aadObjectId: input.aadObjectId ?? derivedGuid(this.appId, this.tenantId, "aad", input.email.toLowerCase()),
      email: input.email,
      userPrincipalName: input.upn ?? input.email,
      name: input.name,
      ...(givenName ? { givenName } : {}),
      ...(rest.length > 0 ? { surname: rest.join(" ") } : {}),
      tenantId: this.tenantId,
    };
    this.users.set(user.id, user);
    return { ...user };
  }

  /** By Teams id (`29:…`), Entra object id, or UPN/email (case-insensitive). */
  findUser(key: string): TeamsUser | undefined {
    const lower = key.toLowerCase();
    for (const user of this.users.values()) {
      if (
        user.id === key ||
        user.aadObjectId.toLowerCase() === lower ||
        user.userPrincipalName.toLowerCase() === lower ||
        user.email.toLowerCase() === lower
      ) {
        return { ...user };
      }
    }
    return undefined;
  }

  allUsers(): TeamsUser[] {
    return [...this.users.values()].map((user) => ({ ...user }));
  }

  addTeam(input: { name: string; members: (TeamsUser | string)[] }): TeamsTeam {
    const id = this.threadId("tacv2");
    this.teams.set(id, {
      id,
      name: input.name,
      aadGroupId: derivedGuid(this.appId, this.tenantId, "group", id),
      memberIds: input.members.map((member) => this.requireUser(member).id),
      channels: [{ id }],
      botInstalled: true,
    });
    this.conversations.set(id, { id, type: "channel", teamId: id, memberIds: [], botInstalled: true });
    return this.team(id);
  }

  team(ref: TeamRef): TeamsTeam {
    const team = this.requireTeam(ref);
    return {
      teamId: team.id,
      name: team.name,
      aadGroupId: team.aadGroupId,
      generalChannelId: team.id,
      channels: team.channels.map((channel) => ({ ...channel, teamId: team.id })),
    };
  }

  allTeams(): TeamsTeam[] {
    return [...this.teams.keys()].map((id) => this.team(id));
  }

  addChannel(teamRef: TeamRef, name: string): TeamsChannel {
    const team = this.requireTeam(teamRef);
    const id = this.threadId("tacv2");
    team.channels.push({ id, name });
    this.conversations.set(id, { id, type: "channel", teamId: team.id, memberIds: [], botInstalled: true });
    return { id, name, teamId: team.id };
  }

  renameTeam(teamRef: TeamRef, name: string): void {
    this.requireTeam(teamRef).name = name;
  }

  renameChannel(channelId: string, name: string): void {
    const conversation = this.requireConversation(channelId);
    const channel = conversation.teamId ? this.teams.get(conversation.teamId)?.channels.find((c) => c.id === conversation.id) : undefined;
    if (!channel) throw new Error(`${channelId} is not a channel`);
    channel.name = name;
  }

  /** The team and its channels disappear: later calls to them get ConversationNotFound. */
  deleteTeam(teamRef: TeamRef): void {
    const team = this.requireTeam(teamRef);
    for (const channel of team.channels) this.conversations.delete(channel.id);
    this.teams.delete(team.id);
  }

  addGroupChat(input: { members: (TeamsUser | string)[] }): TeamsConversation {
    const id = this.threadId("v2");
    const memberIds = input.members.map((member) => this.requireUser(member).id);
    this.conversations.set(id, { id, type: "groupChat", memberIds, botInstalled: true });
    return this.conversation(id);
  }

  private threadId(suffix: "tacv2" | "v2"): string {
    return `19:${derived(this.appId, this.tenantId, "thread", String(++this.threadsMade))
      .subarray(0, 16)
      .toString("hex")}@thread.${suffix}`;
  }

  /** The bot's 1:1 conversation with a user: the same id every time, like Teams. */
  personalConversation(userRef: TeamsUser | string): TeamsConversation {
    const user = this.requireUser(userRef);
    const id = `a:1${createHash("sha256").update(`${this.appId}|${user.id}`).digest("base64url")}`;
    if (!this.conversations.has(id)) {
      this.conversations.set(id, { id, type: "personal", memberIds: [user.id], botInstalled: true });
    }
    return this.conversation(id);
  }

  hasConversation(id: string): boolean {
    return this.conversations.has(baseConversationId(id));
  }

  conversation(ref: ConversationRef): TeamsConversation {
    const record = this.requireConversation(ref);
    const name = record.teamId ? this.teams.get(record.teamId)?.channels.find((c) => c.id === record.id)?.name : undefined;
    return {
      id: record.id,
      type: record.type,
      tenantId: this.tenantId,
      ...(record.teamId ? { teamId: record.teamId } : {}),
      ...(name ? { name } : {}),
    };
  }

  allConversations(): TeamsConversation[] {
    return [...this.conversations.keys()].map((id) => this.conversation(id));
  }

  members(conversationId: string): TeamsUser[] {
    const record = this.requireConversation(conversationId);
    const ids = record.teamId ? (this.teams.get(record.teamId)?.memberIds ?? []) : record.memberIds;
    return ids.map((id) => this.requireUser(id));
  }

  /** The teams the user is a member of, in the order they were made. */
  teamsOf(userRef: TeamsUser | string): TeamsTeam[] {
    const user = this.requireUser(userRef);
    return [...this.teams.values()].filter((team) => team.memberIds.includes(user.id)).map((team) => this.team(team.id));
  }

  /** The user leaves the team, or is removed from it: member reads there answer 404 MemberNotFoundInConversation. */
  removeTeamMember(teamRef: TeamRef, userRef: TeamsUser | string): void {
    const team = this.requireTeam(teamRef);
    const user = this.requireUser(userRef);
    if (!team.memberIds.includes(user.id)) throw new Error(`${user.email} is not a member of team ${team.name}`);
    team.memberIds = team.memberIds.filter((id) => id !== user.id);
  }

  /** A removal Teams has announced but its member reads don't show yet: it lands at `landRemovals()`. */
  removeTeamMemberLater(teamRef: TeamRef, userRef: TeamsUser | string): void {
    const team = this.requireTeam(teamRef);
    const user = this.requireUser(userRef);
    if (!team.memberIds.includes(user.id)) throw new Error(`${user.email} is not a member of team ${team.name}`);
    this.removalsNotLanded.push({ teamId: team.id, userId: user.id });
  }

  landRemovals(): void {
    for (const { teamId, userId } of this.removalsNotLanded.splice(0)) {
      const team = this.teams.get(teamId);
      if (team) team.memberIds = team.memberIds.filter((id) => id !== userId);
    }
  }

  /**
   * The user's account is deleted from the tenant (they left the organisation): they are in no team or group chat any
   * more, their 1:1 chat with the bot is gone (404 ConversationNotFound), member reads answer 404
   * MemberNotFoundInConversation everywhere, and a new 1:1 chat with them is refused.
   */
  removeUser(userRef: TeamsUser | string): void {
    const user = this.requireUser(userRef);
    for (const team of this.teams.values()) team.memberIds = team.memberIds.filter((id) => id !== user.id);
    for (const [id, conversation] of this.conversations) {
      if (conversation.type === "personal" && conversation.memberIds.includes(user.id)) this.conversations.delete(id);
      else conversation.memberIds = conversation.memberIds.filter((memberId) => memberId !== user.id);
    }
    this.users.delete(user.id);
  }

  /** `memberId` may be the `29:` id, the Entra object id or the UPN, as Bot Connector accepts. */
  findMember(conversationId: string, memberId: string): TeamsUser | undefined {
    const user = this.findUser(memberId);
    return user && this.members(conversationId).some((member) => member.id === user.id) ? user : undefined;
  }

  botInstalled(conversationId: string): boolean {
    const record = this.requireConversation(conversationId);
    return record.teamId ? (this.teams.get(record.teamId)?.botInstalled ?? false) : record.botInstalled;
  }

  /** A channel or team covers the whole team, as installing an app in Teams does. */
  setBotInstalled(ref: ConversationRef | TeamRef, installed: boolean): void {
    const id = baseConversationId(refId(ref));
    const teamId = this.teams.has(id) ? id : this.requireConversation(id).teamId;
    const team = teamId === undefined ? undefined : this.teams.get(teamId);
    if (team) team.botInstalled = installed;
    else this.requireConversation(id).botInstalled = installed;
  }

  /** Teams message ids are epoch milliseconds; strictly increasing here so they stay unique. */
  nextActivityId(): string {
    this.lastActivityId = Math.max(Date.now(), this.lastActivityId + 1);
    return String(this.lastActivityId);
  }

  addMessage(message: StoredMessage): void {
    this.messageList.push(message);
    this.messageChanged(message);
  }

  /** Tells listeners (the dev chat page) a message was posted or updated; they get a copy. */
  messageChanged(message: StoredMessage): void {
    for (const listener of this.messageListeners) listener(structuredClone(message));
  }

  onMessage(listener: (message: StoredMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** The conversation disappears (deleted, or never known to this Teams): later calls to it get 404 ConversationNotFound. */
  deleteConversation(ref: ConversationRef): void {
    const id = baseConversationId(refId(ref));
    if (!this.conversations.delete(id)) throw new Error(`Unknown conversation ${id}`);
  }

  /** The live stored message, for the connector to update. */
  message(conversationId: string, activityId: string): StoredMessage | undefined {
    const base = baseConversationId(conversationId);
    return this.messageList.find((m) => m.conversationId === base && m.activityId === activityId);
  }

  messages(conversationId?: string): StoredMessage[] {
    const base = conversationId === undefined ? undefined : baseConversationId(conversationId);
    return this.messageList.filter((m) => base === undefined || m.conversationId === base).map((m) => structuredClone(m));
  }

  requireUser(ref: TeamsUser | string): TeamsUser {
    const user = this.findUser(typeof ref === "string" ? ref : ref.id);
    if (!user) throw new Error(`Unknown user ${typeof ref === "string" ? ref : ref.id}`);
    return user;
  }

  private requireTeam(ref: TeamRef): TeamRecord {
    const id = typeof ref === "string" ? ref : ref.teamId;
    const team = this.teams.get(baseConversationId(id));
    if (!team) throw new Error(`Unknown team ${id}`);
    return team;
  }

  private requireConversation(ref: ConversationRef): ConversationRecord {
    const id = refId(ref);
    const record = this.conversations.get(baseConversationId(id));
    if (!record) throw new Error(`Unknown conversation ${id}`);
    return record;
  }
}
