// What a person does in Discord, sent to the app signed by the emulator as Discord sends it: the emulator
// applies the answer (the clicked message updated, an ephemeral reply, a deferred answer edited later).
import type { DiscordEmulator, DiscordUser, InteractionAnswer } from "../emulators/discord";
import { findComponent } from "../emulators/discord/components";
import type { Conversation } from "./directory";
import { HttpError } from "./http-error";

interface RegisteredOption {
  name: string;
  type: number;
  options?: RegisteredOption[];
}

/** Discord's option types the page fills from typed words: 3 STRING, 5 BOOLEAN. */
const STRING_OPTION = 3;
const BOOLEAN_OPTION = 5;
/** Discord's component type for a user select. */
const USER_SELECT = 5;

export class DiscordActions {
  constructor(
    private readonly discord: DiscordEmulator,
    private readonly appUrl: string,
  ) {}

  click(input: { channelId: string; messageId: string; userId: string; customId: string; values?: string[] }): Promise<InteractionAnswer> {
    const component = findComponent(this.discord.message(input.channelId, input.messageId)?.components ?? [], input.customId);
    if (component?.type === USER_SELECT) this.checkPick(component, input.values ?? []);
    const interaction = this.discord.componentClick({
      user: this.user(input.userId),
      channelId: input.channelId,
      messageId: input.messageId,
      customId: input.customId,
      ...(input.values ? { values: input.values } : {}),
    });
    return this.discord.sendInteraction(this.interactionsUrl, interaction);
  }

  /**
   * `/<command> <subcommand> [words]` as the Discord client sends it once filled in: the words fill the
   * subcommand's string options in the order the app registered them; `--no-<option>` sets a boolean one false.
   */
  async slashCommand(input: { conversation: Conversation; userId: string; command: string; text: string }): Promise<InteractionAnswer> {
    const { ref } = input.conversation;
    if (ref.platform !== "discord") throw new HttpError(400, "Not a Discord conversation.");
    const [subcommand = "help", ...words] = input.text.split(/\s+/).filter(Boolean);
    const registered = (this.discord.commands as RegisteredOption[]).find((c) => c.name === input.command);
    if (!registered) throw new HttpError(400, `The app hasn't registered /${input.command} with Discord (npm run discord:commands).`);
    const sub = registered.options?.find((o) => o.name === subcommand);
    if (!sub) throw new HttpError(400, `/${input.command} has no “${subcommand}”: try ${(registered.options ?? []).map((o) => o.name).join(", ")}.`);
    const options: Record<string, string | boolean> = {};
    const strings = (sub.options ?? []).filter((o) => o.type === STRING_OPTION);
    for (const word of words) {
      const flag = /^--no-(.+)$/.exec(word)?.[1];
      const boolean = flag && sub.options?.find((o) => o.type === BOOLEAN_OPTION && o.name === flag);
      if (boolean) options[boolean.name] = false;
      else if (strings.length > 0) options[strings.shift()!.name] = word;
      else throw new HttpError(400, `/${input.command} ${subcommand} takes no more than ${Object.keys(options).length} words here.`);
    }
    const interaction = this.discord.slashCommand({ user: this.user(input.userId), channelId: ref.channelId, subcommand, options });
    return this.discord.sendInteraction(this.interactionsUrl, interaction);
  }

  /** What Discord's client can't send: a pick of someone it doesn't know, or more or fewer than the select takes. */
  private checkPick(select: Record<string, unknown>, userIds: string[]): void {
    const min = typeof select.min_values === "number" ? select.min_values : 1;
    const max = typeof select.max_values === "number" ? select.max_values : 1;
    if (userIds.length < min || userIds.length > max) {
      throw new HttpError(400, `This menu takes ${min === max ? min : `${min} to ${max}`} users, not ${userIds.length}.`);
    }
    const unknown = userIds.find((id) => !this.discord.users.has(id));
    if (unknown !== undefined) throw new HttpError(400, `No Discord user ${unknown} to pick: choose someone from the menu.`);
  }

  private get interactionsUrl(): string {
    return `${this.appUrl}/api/discord/interactions`;
  }

  private user(id: string): DiscordUser {
    const user = this.discord.users.get(id);
    if (!user) throw new HttpError(400, "No such Discord user.");
    return user;
  }
}
