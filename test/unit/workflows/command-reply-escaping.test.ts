// A command's error reply may quote what was typed ("<word>" is not a level): it must show as typed, never as
// markup the platform acts on (a link in a Teams channel that everyone sees, a Discord mention).
import { describe, expect, it } from "vitest";
import { escapeDiscordMarkdown, escapeTeamsMarkdown } from "../../../shared/cards/text";
import { commandWords, type CommandWording } from "../../../shared/inbound/command-words";
import { parseCommand } from "../../../shared/workflows/commands";

const nouns = { place: "channel", personalChat: "DM", personalMessage: "DM" };
const teams: CommandWording = { markup: "markdown", escape: escapeTeamsMarkdown, automatically: "", nouns, help: () => "" };
const discord: CommandWording = { markup: "markdown", escape: escapeDiscordMarkdown, slash: "/triage", automatically: "", nouns, help: () => "" };

function replyTo(text: string, wording: CommandWording): string {
  const parsed = parseCommand(text);
  if (parsed.name !== "invalid") throw new Error(`expected ${text} to be refused`);
  return commandWords({ kind: "invalid", reason: parsed.reason }, wording);
}

describe("a refused command quoting what was typed", () => {
  it("Teams: a markdown link typed as the level is not a link in the reply", () => {
    const reply = replyTo("subscribe checkout [Sign-in](https://evil.example)", teams);
    expect(reply).toContain("is not a level");
    expect(reply).not.toMatch(/(^|[^\\])\[Sign-in\]\(/);
  });

  it("Discord: a mention typed as the level does not mention anyone in the reply", () => {
    const reply = replyTo("subscribe checkout <@&123456789012345678>", discord);
    expect(reply).toContain("is not a level");
    expect(reply).not.toMatch(/(^|[^\\])<@&/);
  });
});
