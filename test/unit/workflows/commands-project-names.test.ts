// Alerts may name any printable project up to 200 characters ("Resource Health", a Grafana receiver's name):
// `subscribe` and `unsubscribe` take such a name in quotes, and `subscriptions` lists it so it can be copied back.
import { describe, expect, it } from "vitest";
import type { Level } from "../../../shared/domain/issue";
import { slackWords } from "../../../shared/inbound/slack/commands";
import { teamsWords } from "../../../shared/inbound/teams/commands";
import type { CommandReply } from "../../../shared/workflows/commands";
import { parseCommand } from "../../../shared/workflows/commands";
import { swallowedMarkup } from "../cards/teams-markup";

const subscribed = (project: string, minLevel: Level = "error", thread = true) => ({ name: "subscribe", args: { project, minLevel, thread } });
const unsubscribed = (project: string) => ({ name: "unsubscribe", args: { project } });
const reasonFor = (typed: string): string => {
  const command = parseCommand(typed);
  if (command.name !== "invalid") throw new Error(`"${typed}" was read as ${JSON.stringify(command)}`);
  return command.reason;
};

describe("a project name with spaces, typed in quotes", () => {
  it("straight quotes", () => {
    expect(parseCommand('subscribe "Resource Health" warning')).toEqual(subscribed("Resource Health", "warning"));
    expect(parseCommand('subscribe "Activity Log - Administrative"')).toEqual(subscribed("Activity Log - Administrative"));
    expect(parseCommand('unsubscribe "Resource Health"')).toEqual(unsubscribed("Resource Health"));
  });

  it("the curly quotes Teams, macOS and iOS put in as people type, either way round", () => {
    expect(parseCommand("subscribe “Resource Health” warning")).toEqual(subscribed("Resource Health", "warning"));
    expect(parseCommand("subscribe ”Application Insights” info")).toEqual(subscribed("Application Insights", "info"));
    expect(parseCommand("subscribe „Resource Health“")).toEqual(subscribed("Resource Health"));
    expect(parseCommand('subscribe “Resource Health" fatal')).toEqual(subscribed("Resource Health", "fatal"));
    expect(parseCommand("unsubscribe “Resource Health”")).toEqual(unsubscribed("Resource Health"));
  });

  it("--no-thread before the name, between name and level, or at the end", () => {
    expect(parseCommand('subscribe --no-thread "Resource Health" warning')).toEqual(subscribed("Resource Health", "warning", false));
    expect(parseCommand('subscribe "Resource Health" --no-thread warning')).toEqual(subscribed("Resource Health", "warning", false));
    expect(parseCommand("subscribe “Resource Health” warning --NO-THREAD")).toEqual(subscribed("Resource Health", "warning", false));
    // Smart punctuation turns the two hyphens into a dash as people type.
    expect(parseCommand("subscribe “Resource Health” —no-thread")).toEqual(subscribed("Resource Health", "error", false));
    // In quotes it is a name, not the flag.
    expect(parseCommand('subscribe "--no-thread"')).toEqual(subscribed("--no-thread"));
  });

  it("a quoted name may hold whatever an alert's project may: slashes, quotes, other scripts", () => {
    expect(parseCommand('subscribe "team/app #1?" debug')).toEqual(subscribed("team/app #1?", "debug"));
    expect(parseCommand('subscribe "Checkout (EU) & Payments"')).toEqual(subscribed("Checkout (EU) & Payments"));
    expect(parseCommand('subscribe "Grafana "on-call""')).toEqual(subscribed('Grafana "on-call"'));
    expect(parseCommand('subscribe "say \\"hi\\" now"')).toEqual(subscribed('say "hi" now'));
    expect(parseCommand('subscribe "C:\\logs\\app"')).toEqual(subscribed("C:\\logs\\app"));
    expect(parseCommand('subscribe "Zahlungsdienst Ünterstützung"')).toEqual(subscribed("Zahlungsdienst Ünterstützung"));
    expect(parseCommand('subscribe "x"')).toEqual(subscribed("x"));
    // Alerts' projects are trimmed; so are typed ones.
    expect(parseCommand('unsubscribe " Resource Health "')).toEqual(unsubscribed("Resource Health"));
  });

  it("a bare name is one word, as before, in any script", () => {
    expect(parseCommand("subscribe checkout")).toEqual(subscribed("checkout"));
    expect(parseCommand("subscribe café warning")).toEqual(subscribed("café", "warning"));
    expect(parseCommand("unsubscribe checkout-api.v2")).toEqual(unsubscribed("checkout-api.v2"));
  });

  it("a name with spaces typed without quotes: the answer says to quote it", () => {
    expect(reasonFor("subscribe Resource Health warning")).toMatch(/in quotes[^]*"Resource Health"/);
    expect(reasonFor("unsubscribe Resource Health")).toMatch(/in quotes[^]*"Resource Health"/);
    expect(reasonFor("subscribe team/app")).toMatch(/in quotes/);
  });

  it("a quote that is never closed: says the closing quote is missing, and how it goes", () => {
    for (const typed of [
      'subscribe "Resource Health warning',
      "subscribe “Resource Health",
      'unsubscribe "Resource Health',
      'subscribe "Resource Health"warning',
    ]) {
      const reason = reasonFor(typed);
      expect(reason, typed).toMatch(/closing quote/);
      expect(reason, typed).toContain('"Resource Health"');
      expect(reason, typed).not.toMatch(/not a level/);
    }
  });

  it("empty quotes: the usage", () => {
    expect(reasonFor('subscribe "" warning')).toMatch(/^Usage: subscribe PROJECT/);
    expect(reasonFor("unsubscribe “ ”")).toMatch(/^Usage: unsubscribe PROJECT/);
  });

  it("a name longer than any alert's project, or with a control character: says so", () => {
    expect(parseCommand(`subscribe "${"x".repeat(200)}"`)).toEqual(subscribed("x".repeat(200)));
    expect(reasonFor(`subscribe "${"x".repeat(201)}"`)).toMatch(/too long[^]*200 characters/);
    // `/` counts as three: it is escaped in the storage key.
    expect(parseCommand(`unsubscribe "${"a/".repeat(50)}"`)).toEqual(unsubscribed("a/".repeat(50)));
    expect(reasonFor(`unsubscribe "${"a/".repeat(51)}"`)).toMatch(/too long/);
    expect(reasonFor('subscribe "Resource\u0007Health"')).toMatch(/control character/);
    expect(reasonFor('subscribe "broken \ud83d emoji"')).toMatch(/control character or half an emoji/);
  });

  it("none of these answers carries markup Teams' renderer would swallow", () => {
    for (const typed of [
      'subscribe "Resource Health',
      "subscribe <project>",
      "subscribe Resource Health warning",
      `subscribe "${"x".repeat(201)}"`,
    ]) {
      expect(swallowedMarkup(reasonFor(typed)), typed).toEqual([]);
    }
  });
});

describe("`subscriptions` lists each project as it is typed back", () => {
  const projects: [string, Level][] = [
    ["checkout", "error"],
    ["Resource Health", "warning"],
    ['Grafana "on-call" now', "info"],
    ["<prod> & friends", "fatal"],
  ];
  const reply: CommandReply = {
    kind: "subscriptions",
    subscriptions: projects.map(([project, minLevel]) => ({
      conversationKey: "c",
      project,
      minLevel,
      target: { provider: "slack", teamId: "T1", channel: "C1" },
    })),
  };
  /** What a person sees in the list's bullets: HTML entities (Slack) or markdown escapes (Teams) shown as what they stand for. */
  const shownNames = (text: string, bold: RegExp, markup: "mrkdwn" | "markdown") =>
    [...text.matchAll(bold)].map((match) =>
      markup === "mrkdwn"
        ? match[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")
        : match[1]!.replace(/\\([!-/:-@[-`{-~])/g, "$1"),
    );

  it("Slack: a name with spaces in quotes; copied into unsubscribe, it names the same project", () => {
    const text = slackWords(reply as never, "/triage");
    expect(text).toContain("• *checkout* (error and above)");
    expect(text).toContain('• *"Resource Health"* (warning and above)');
    // `<` would start a Slack link or mention.
    expect(text).not.toMatch(/<prod>/);
    const shown = shownNames(text, /^• \*(.+)\* \(/gm, "mrkdwn");
    expect(shown.map((name) => (parseCommand(`unsubscribe ${name}`) as { args: { project: string } }).args.project)).toEqual(
      projects.map(([project]) => project),
    );
  });

  it("Teams: the same, and nothing in angle brackets is dropped by its renderer", () => {
    const text = teamsWords(reply as never, "channel")!;
    expect(text).toContain('- **"Resource Health"** (warning and above)');
    expect(swallowedMarkup(text)).toEqual([]);
    const shown = shownNames(text, /^- \*\*(.+)\*\* \(/gm, "markdown");
    expect(shown.map((name) => (parseCommand(`unsubscribe ${name}`) as { args: { project: string } }).args.project)).toEqual(
      projects.map(([project]) => project),
    );
  });

  it("Teams help says how to type a name with spaces", () => {
    const help = teamsWords({ kind: "help" }, "channel")!;
    expect(help).toMatch(/quotes[^]*"Resource Health"/);
    expect(swallowedMarkup(help)).toEqual([]);
  });
});
