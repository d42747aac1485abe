import { toIssueAction } from "../../cards/card-action";
import { isDiscordUserPick, type DiscordCardAction } from "../../cards/discord-message";
import { escapeDiscordMarkdown } from "../../cards/text";
import type { ComponentInteraction } from "../../discord/payloads";
import type { IdentityRepository } from "../../storage/identities";
import type { ClickIntent } from "../../workflows/card-click";

const NOTHING_CHANGED = "Nothing was changed.";

/**
 * The change a Discord click asks for. A person picked in the user select (anyone in the server) is assigned when
 * they are linked in this server: Discord vouches for no one's email, so only an explicit link says who they are.
 * Picking yourself is "Assign to me". A bot, or someone not linked, is refused with a reason and nothing changes.
 */
export async function discordIntentOf(
  identities: Pick<IdentityRepository, "lookup" | "people">,
  click: { action: DiscordCardAction; guildId: string; clickerId: string; resolved: ComponentInteraction["data"]["resolved"] },
): Promise<ClickIntent> {
  const { action, guildId, clickerId, resolved } = click;
  if (!isDiscordUserPick(action)) {
    // A menu from an older card names the assignee by email: their name, when they are linked here, reads better.
    const people = action.action.type === "assign" && action.action.assignee !== "me" ? await identities.people("discord", guildId) : [];
    return { kind: "apply", action: toIssueAction(action, people) };
  }
  const userId = action.action.discordUserId;
  if (userId === clickerId) return { kind: "apply", action: { type: "assign", assignee: "me" } };
  const picked = resolved?.users?.[userId];
  const who = escapeDiscordMarkdown(resolved?.members?.[userId]?.nick || picked?.global_name || picked?.username || "That member");
  if (picked?.bot) return { kind: "answer", text: `${who} is a bot or an app, not a person: issues are assigned to people. ${NOTHING_CHANGED}` };
  const { identity } = await identities.lookup("discord", guildId, userId);
  if (identity) return { kind: "apply", action: { type: "assign", assignee: identity.person } };
  return {
    kind: "answer",
    text:
      `${who} hasn't linked their Discord account to a work account in this server, so Triage Relay can't tell who they are ` +
      `and didn't assign the issue. ${NOTHING_CHANGED} They can link it with \`/triage link\`, then you can assign them.`,
  };
}
