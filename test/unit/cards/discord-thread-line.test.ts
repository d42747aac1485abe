import { describe, expect, it } from "vitest";
import { DISCORD_LIMITS } from "../../../shared/cards/discord-message";
import {
  buildThreadLine,
  discordThreadName,
  renderDiscordThreadLine,
  type NamedPerson,
  type ThreadLineOptions,
  type ThreadLineView,
} from "../../../shared/cards/thread-line";
import type { ActivityRecord } from "../../../shared/domain/actions";
import { aChange, CHANGE_AT } from "../../fixtures/activities";
import { anIssue } from "../../fixtures/issues";

const AT = CHANGE_AT;
const change = (overrides: Partial<ActivityRecord>): ActivityRecord => aChange({ surface: "discord", ...overrides });

const directory: Record<string, NamedPerson> = {
  "ana@contoso.com": { name: "Ana Lima" },
  "ben@contoso.com": { name: "Ben", chatUser: { id: "1100000000000000042" } },
  "eve@contoso.com": { name: "*Eve* _the_ [admin](https://evil.example) <@1100000000000000099> @everyone" },
};
const options: ThreadLineOptions = { personFor: (email) => directory[email] ?? { name: email }, broadcastRegressions: true };
const render = (changes: ActivityRecord[]) => renderDiscordThreadLine(buildThreadLine(anIssue(), changes, options)!);

describe("a Discord thread line", () => {
  it("says who did what, like the Teams and Slack lines: Resolved by Ana Lima · via Discord", () => {
    expect(render([change({})]).content).toBe("Resolved by Ana Lima · via Discord");
  });

  it("pings nobody: no mention is parsed, whatever the text", () => {
    for (const line of [render([change({})]), render([change({ action: "assign", detail: "ben@contoso.com" })])]) {
      expect(line.allowed_mentions).toEqual({ parse: [] });
    }
  });

  it("shows a person linked in the card's server as their Discord user (a mention that notifies no one)", () => {
    expect(render([change({ action: "assign", detail: "ben@contoso.com" })]).content).toBe(
      "Assigned to <@1100000000000000042> by Ana Lima · via Discord",
    );
  });

  it("escapes Discord markdown in names: no bold, italics, links or mentions made of someone's name", () => {
    const line = render([change({ action: "assign", detail: "eve@contoso.com", actor: "eve@contoso.com" })]);
    expect(line.content).toBe(
      "Assigned to \\*Eve\\* \\_the\\_ \\[admin\\](https://evil.example) \\<@1100000000000000099\\> @everyone" +
        " by \\*Eve\\* \\_the\\_ \\[admin\\](https://evil.example) \\<@1100000000000000099\\> @everyone · via Discord",
    );
    // `@everyone` stays text: allowed_mentions parses nothing, so it notifies no one.
    expect(line.allowed_mentions).toEqual({ parse: [] });
  });

  it("a burst is one message: a count, then one list item per change", () => {
    const line = render([
      change({ action: "resolve" }),
      change({ action: "assign", detail: "ben@contoso.com", actor: "ben@contoso.com", toStatus: "resolved" }),
    ]);
    expect(line.content.split("\n")).toEqual([
      "2 changes:",
      "- Resolved by Ana Lima · via Discord",
      "- Assigned to <@1100000000000000042> by Ben · via Discord",
    ]);
  });

  it("fits a Discord message (2,000 characters) whatever the changes say", () => {
    const long = "x".repeat(400);
    const view: ThreadLineView = { changes: Array.from({ length: 8 }, () => [`Resolved ${long}`, " by ", long]), omitted: 40, broadcast: false };
    const content = renderDiscordThreadLine(view).content;
    expect(content.length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
    expect(content.startsWith("48 changes, the latest 8:\n- Resolved x")).toBe(true);
    expect(content.endsWith("…")).toBe(true);
  });
});

describe("the card's thread name", () => {
  it("is the issue's short id and title", () => {
    expect(discordThreadName(anIssue())).toBe("CHECKOUT-12: TypeError: cart is undefined");
  });

  it("is the title alone without a short id, on one line, and at most 100 characters", () => {
    expect(discordThreadName(anIssue({ shortId: undefined, title: "Disk full\non  db-1" }))).toBe("Disk full on db-1");
    const name = discordThreadName(anIssue({ title: "a".repeat(300) }));
    expect(name.length).toBeLessThanOrEqual(100);
    expect(name).toMatch(/^CHECKOUT-12: a+…$/);
  });

  it("is never empty (Discord wants 1 to 100 characters)", () => {
    expect(discordThreadName(anIssue({ shortId: undefined, title: "  " }))).toBe("issue-1");
  });
});
