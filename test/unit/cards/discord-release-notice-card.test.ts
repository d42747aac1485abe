import { describe, expect, it } from "vitest";
import { DISCORD_LIMITS, embedLength } from "../../../shared/cards/discord-message";
import { renderReleaseDiscordMessage } from "../../../shared/cards/release-discord";
import { buildReleaseView } from "../../../shared/cards/release-view";
import { content, huge, issues, release } from "../../fixtures/releases";

describe("the Discord release message", () => {
  it.each([
    ["empty", content([])],
    ["a few issues", content(issues(3), issues(2))],
    ["every list at its longest, with huge titles and links", content(issues(200, huge), issues(200, huge))],
  ])("%s: within Discord's embed limits, pinging nobody", (_name, c) => {
    for (const personal of [false, true]) {
      const message = renderReleaseDiscordMessage(buildReleaseView(c, { personal }));
      const [embed] = message.embeds;
      expect(message.embeds).toHaveLength(1);
      expect(message.allowed_mentions).toEqual({ parse: [] });
      expect(embed!.title!.length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
      expect(embed!.description!.length).toBeLessThanOrEqual(DISCORD_LIMITS.description);
      expect(embedLength(embed!)).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
      expect(embed!.fields!.length).toBeLessThanOrEqual(DISCORD_LIMITS.fields);
      for (const field of embed!.fields!) {
        expect(field.name.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldName);
        expect(field.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldValue);
      }
    }
  });

  it("cuts long lists to fit, and says how many it left out", () => {
    const description = renderReleaseDiscordMessage(buildReleaseView(content(issues(200, huge), issues(200, huge)))).embeds[0]!.description!;
    const more = [...description.matchAll(/^…and ([\d,]+) more$/gm)].map((m) => Number(m[1]!.replace(/,/g, "")));
    expect(more).toHaveLength(2);
    const shown = description.split("\n").filter((line) => line.startsWith("• ")).length;
    expect(shown + more[0]! + more[1]!).toBe(400);
  });

  it("links the release and each issue, and shows what the producer wrote as typed", () => {
    const view = buildReleaseView({
      ...content(issues(1, () => ({ title: "*bold* [link](https://evil.example)\n# not a heading", url: "https://sentry.example.com/issues/(1)" }))),
      release: { ...release, version: "1.2.4 <@&123> @everyone", environment: "~~prod~~" },
    });
    const embed = renderReleaseDiscordMessage(view).embeds[0]!;
    expect(embed.title).toBe("checkout 1.2.4 \\<@&123\\> @everyone went out to \\~\\~prod\\~\\~");
    expect(embed.url).toBe(release.url);
    expect(embed.description!.split("\n")[1]).toBe(
      "• [CHECKOUT-0 \\*bold\\* \\[link\\](https://evil.example) # not a heading](https://sentry.example.com/issues/%281%29) · error · 57 events",
    );
    expect(embed.fields).toContainEqual({ name: "Environment", value: "\\~\\~prod\\~\\~", inline: true });
  });
});

describe("a release whose environment is only spaces", () => {
  it("still has a value in every field: Discord refuses a blank one", () => {
    const message = renderReleaseDiscordMessage(buildReleaseView({ ...content(issues(1)), release: { ...release, environment: "  \n " } }));
    for (const field of message.embeds[0]!.fields ?? []) expect(field.value.trim()).not.toBe("");
  });
});
