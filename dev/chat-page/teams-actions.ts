// What a person does in Teams, sent to the app's /api/messages by the emulator, signed as Teams would.
import type { BotResponse, TeamsEmulator, TeamsUser } from "../emulators/teams";
import { conversationKey, type Conversation } from "./directory";
import { HttpError } from "./http-error";
import type { LocalLog } from "./local-log";

export class TeamsActions {
  constructor(
    private readonly teams: TeamsEmulator,
    private readonly messagesUrl: string,
    private readonly log: LocalLog,
  ) {}

  /** Action.Execute: the app answers the invoke with a card (or a message) for the clicker. */
  invoke(input: {
    conversationId: string;
    activityId: string;
    user: TeamsUser;
    verb: string;
    data: unknown;
    actionId?: string;
  }): Promise<BotResponse> {
    const activity = this.teams.invokeAction({
      conversation: input.conversationId,
      from: input.user,
      replyToId: input.activityId,
      verb: input.verb,
      data: input.data,
      ...(input.actionId ? { actionId: input.actionId } : {}),
    });
    return this.post(activity);
  }

  /** Action.Submit: Teams sends the data as the `value` of a message replying to the card. */
  submit(input: { conversationId: string; activityId: string; user: TeamsUser; data: unknown }): Promise<BotResponse> {
    const activity = this.teams.message({
      conversation: input.conversationId,
      from: input.user,
      value: input.data,
      replyToId: input.activityId,
      mentionBot: false,
    });
    return this.post(activity);
  }

  /** Typed text: an @mention in channels and group chats (Teams delivers nothing else there), plain in a 1:1. */
  say(input: { conversation: Conversation; user: TeamsUser; text: string }): Promise<BotResponse> {
    const { conversationId } = asTeams(input.conversation);
    const mention = input.conversation.kind === "personal" ? "" : "@Triage Relay ";
    // Logged first so it sorts before the bot's answer.
    this.log.add({ key: conversationKey(input.conversation.ref), author: input.user.name, fromApp: false, text: `${mention}${input.text}` });
    return this.post(this.teams.message({ conversation: conversationId, from: input.user, text: input.text }));
  }

  /** The install event Teams sends when someone adds the app to the team, 1:1 chat or group chat. */
  install(input: { conversation: Conversation; user: TeamsUser }): Promise<BotResponse> {
    const { conversationId } = asTeams(input.conversation);
    const { kind } = input.conversation;
    const activity =
      kind === "channel"
        ? this.teams.botAddedToTeam({ team: conversationTeam(this.teams, conversationId), from: input.user })
        : kind === "personal"
          ? this.teams.personalInstall({ user: input.user })
          : this.teams.installationUpdate({ action: "add", conversation: conversationId, from: input.user });
    return this.post(activity);
  }

  private post(activity: Parameters<TeamsEmulator["post"]>[1]): Promise<BotResponse> {
    return this.teams.post(this.messagesUrl, activity);
  }
}

function asTeams(conversation: Conversation): { conversationId: string } {
  if (conversation.ref.platform !== "teams") throw new HttpError(400, "Not a Teams conversation.");
  return conversation.ref;
}

function conversationTeam(teams: TeamsEmulator, channelId: string): string {
  const team = teams.snapshot().teams.find((t) => t.channels.some((c) => c.id === channelId));
  if (!team) throw new HttpError(404, "That channel's team is gone.");
  return team.teamId;
}
