import { describe, expect, it } from "vitest";
import { decodeDiscordComponent, DISCORD_LIMITS, embedLength, renderDiscordMessage } from "../../../shared/cards/discord-message";
import { buildIssueView } from "../../../shared/cards/view";
import { anIssue } from "../../fixtures/issues";

type Component = { type: number; custom_id: string; label?: string; options?: { label: string; value: string }[] };
const componentsOf = (message: ReturnType<typeof renderDiscordMessage>) =>
  message.components.flatMap((row) => row.components as unknown as Component[]);

describe("the Discord card", () => {
  it("shows the issue: level colour, title linking to it, culprit, status and facts, and its actions", () => {
    const message = renderDiscordMessage(buildIssueView(anIssue({ tags: {} })));
    const [embed] = message.embeds;
    expect(embed).toMatchObject({ title: "ERROR: TypeError: cart is undefined", url: "https://sentry.example.com/issues/1", color: 0xe03e2f });
    expect(embed!.description).toContain("cart/view.ts in render");
    expect(embed!.fields![0]).toEqual({ name: "Status", value: "Unresolved", inline: false });
    expect(embed!.fields!.map((f) => f.name)).toContain("Project");
    const components = componentsOf(message);
    expect(components.map((c) => c.label ?? c.custom_id)).toEqual(["Resolve", "ignore~issue-1", "assign-user~issue-1", "Assign to me"]);
    expect(components[1]!.options!.map((o) => o.value)).toContain("ignore:events:100");
  });

  it("decodes every button and menu choice back into the action it offers", () => {
    const message = renderDiscordMessage(
      buildIssueView(anIssue({ assignee: { email: "ben@contoso.com" } }), { assignChoices: [{ email: "cy@contoso.com", name: "Cy" }] }),
    );
    // Not the user select: what it sends is a user id, read by the click (inbound/discord/assign-choice.ts).
    for (const component of componentsOf(message).filter((c) => c.type !== 5)) {
      for (const value of component.options?.map((o) => o.value) ?? [undefined]) {
        const decoded = decodeDiscordComponent(component.custom_id, value === undefined ? undefined : [value]);
        expect(decoded?.issueId).toBe("issue-1");
      }
    }
    expect(decodeDiscordComponent("resolve:next~issue-1", undefined)?.action).toEqual({ type: "resolve", inRelease: "next" });
    expect(decodeDiscordComponent("assign~issue-1", ["assign:cy@contoso.com"])?.action).toEqual({ type: "assign", assignee: "cy@contoso.com" });
    expect(decodeDiscordComponent("unresolve~issue-1", ["assign:me"])).toBeUndefined();
    expect(decodeDiscordComponent("launch~issue-1", undefined)).toBeUndefined();
    expect(decodeDiscordComponent("somebody-elses-button", undefined)).toBeUndefined();
  });

  it("keeps an issue id too long for a custom_id in the footer and reads it from there", () => {
    const issueId = "x".repeat(150);
    const message = renderDiscordMessage(buildIssueView(anIssue({ id: issueId })));
    for (const component of componentsOf(message)) expect(component.custom_id.length).toBeLessThanOrEqual(DISCORD_LIMITS.customId);
    expect(decodeDiscordComponent("resolve~", undefined, message.embeds)?.issueId).toBe(issueId);
  });

  it("cuts an issue over every limit to fit, never refusing it: 6,000 characters, 25 fields, 5 rows, 25 options", () => {
    const long = "é".repeat(5000);
    const issue = anIssue({
      title: long,
      culprit: long,
      description: long,
      tags: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`tag${i}`, long])),
    });
    const people = Array.from({ length: 60 }, (_, i) => ({ email: `person${i}@contoso.com`, name: `Person ${i} ${long}` }));
    const view = buildIssueView(issue, { assignChoices: people });
    view.facts = Array.from({ length: 40 }, (_, i) => ({ label: `Fact ${i} ${long}`, value: long }));
    const message = renderDiscordMessage(view);
    const [embed] = message.embeds;
    expect(embedLength(embed!)).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
    expect(embed!.title!.length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
    expect(embed!.fields!.length).toBeLessThanOrEqual(DISCORD_LIMITS.fields);
    expect(embed!.fields![0]!.name).toBe("Status");
    for (const field of embed!.fields!) {
      expect(field.name.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldName);
      expect(field.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldValue);
    }
    expect(message.components.length).toBeLessThanOrEqual(DISCORD_LIMITS.actionRows);
    for (const component of componentsOf(message)) {
      expect(component.options?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.selectOptions);
      for (const option of component.options ?? []) expect(option.label.length).toBeLessThanOrEqual(DISCORD_LIMITS.optionLabel);
    }
    expect(componentsOf(message).some((c) => c.custom_id.startsWith("assign~"))).toBe(false);
  });

  it("shows an alert's markdown as typed: a [text](url) in it can't pass for a link with other words on it", () => {
    const issue = anIssue({ description: "[Reset your password](https://evil.example) or **now**", environment: "eu_west *1*" });
    const [embed] = renderDiscordMessage(buildIssueView(issue)).embeds;
    expect(embed!.description).toContain("\\[Reset your password\\](https://evil.example) or \\*\\*now\\*\\*");
    expect(embed!.fields!.find((f) => f.name === "Environment")?.value).toBe("eu\\_west \\*1\\*");
  });

  it("turns green when resolved and offers Unresolve", () => {
    const message = renderDiscordMessage(buildIssueView(anIssue({ status: "resolved", statusChangedBy: "Ana Lima" })));
    expect(message.embeds[0]!.color).toBe(0x2eb67d);
    expect(message.embeds[0]!.fields![0]!.value).toMatch(/Resolved by Ana Lima/);
    expect(componentsOf(message)[0]).toMatchObject({ label: "Unresolve", custom_id: "unresolve~issue-1" });
  });
});
