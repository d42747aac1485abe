// What a person does in Slack, sent to the app signed by the emulator: clicks carry a response_url the
// emulator honours, so the app's replace_original and ephemeral answers land like on Slack.
import type { ActionInput, DeliveryResult, SlackEmulator } from "../emulators/slack";
import { conversationKey, type Conversation } from "./directory";
import { HttpError } from "./http-error";
import type { LocalLog } from "./local-log";

export class SlackActions {
  constructor(
    private readonly slack: SlackEmulator,
    private readonly appUrl: string,
    private readonly command: string,
    private readonly log: LocalLog,
  ) {}

  click(input: { teamId: string; channel: string; ts: string; userId: string; action: ActionInput }): Promise<DeliveryResult> {
    const payload = this.slack.blockActions({
      teamId: input.teamId,
      user: input.userId,
      channel: input.channel,
      messageTs: input.ts,
      actions: [input.action],
    });
    return this.slack.sendInteraction(`${this.appUrl}/api/slack/interactions`, payload);
  }

  /** Slack shows the answer in the HTTP response to whoever typed (to everyone with `in_channel`) and stores nothing. */
  async slashCommand(input: { conversation: Conversation; userId: string; text: string }): Promise<DeliveryResult> {
    const { ref } = input.conversation;
    if (ref.platform !== "slack") throw new HttpError(400, "Not a Slack conversation.");
    const fields = this.slack.slashCommand({ teamId: ref.teamId, user: input.userId, channel: ref.channel, command: this.command, text: input.text });
    const result = await this.slack.sendCommand(`${this.appUrl}/api/slack/commands`, fields);
    const answer = result.status === 200 ? (result.json as { response_type?: unknown; text?: unknown; blocks?: unknown } | undefined) : undefined;
    if (answer && (typeof answer.text === "string" || Array.isArray(answer.blocks))) {
      this.log.add({
        key: conversationKey(ref),
        author: "Triage Relay",
        fromApp: true,
        ...(typeof answer.text === "string" ? { text: answer.text } : {}),
        ...(Array.isArray(answer.blocks) ? { blocks: answer.blocks as unknown[] } : {}),
        ...(answer.response_type === "in_channel" ? {} : { visibleTo: input.userId }),
        note: `${this.command} ${input.text}`.trim(),
      });
    }
    return result;
  }
}
