import { describe, expect, it } from "vitest";
import { parseAlert } from "../../../shared/domain/alert";
import { anAlert } from "../../fixtures/issues";

// What a producer (and the alerts-poison message) is told about a bad target: the explanation of the
// kind of target it meant, not zod's bare "Invalid input" for a union.
function problemsFor(target: unknown) {
  const result = parseAlert({ ...anAlert(), targets: [target] });
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.issues;
}

describe("a bad alert target is explained by the branch it was meant for", () => {
  it("a Teams conversation id that isn't one says what one looks like", () => {
    expect(problemsFor({ provider: "msteams", conversationId: "team-id" })).toEqual([
      { path: "targets.0", message: "conversationId: a Teams conversation id such as 19:…@thread.tacv2" },
    ]);
  });

  it("a Slack channel name says ids, not names", () => {
    const problems = problemsFor({ provider: "slack", teamId: "T01", channel: "#alerts" });
    expect(problems.map((p) => `${p.path}: ${p.message}`).join("\n")).toContain("a Slack channel id such as C0123ABC (ids, not names)");
  });

  it("a Teams user target without a user says what it needs", () => {
    expect(problemsFor({ provider: "msteams" }).map((p) => p.message)).toEqual(["a Teams user target needs userEmail or aadObjectId"]);
  });

  it("an unknown provider names the providers", () => {
    expect(problemsFor({ provider: "matrix", channel: "x" }).map((p) => p.message)).toEqual([
      'a target needs provider "msteams", "slack" or "discord"',
    ]);
  });

  it("a Discord target is a channel id or a guild and an email, both snowflakes", () => {
    expect(parseAlert({ ...anAlert(), targets: [{ provider: "discord", channelId: "1100000000000000001" }] }).ok).toBe(true);
    expect(parseAlert({ ...anAlert(), targets: [{ provider: "discord", guildId: "1100000000000000001", userEmail: "ana@contoso.com" }] }).ok).toBe(
      true,
    );
    expect(
      problemsFor({ provider: "discord", channelId: "#alerts" })
        .map((p) => p.message)
        .join(),
    ).toMatch(/snowflake/);
  });

  it("never answers with the bare 'Invalid input'", () => {
    for (const target of [
      { provider: "msteams", conversationId: "team-id" },
      { provider: "msteams", conversationId: "19:abc@thread.tacv2", extra: 1 },
      { provider: "slack", teamId: "nope", channel: "C01" },
      { provider: "slack", teamId: "T01" },
      {},
    ]) {
      for (const problem of problemsFor(target)) expect(problem.message, JSON.stringify(target)).not.toBe("Invalid input");
    }
  });
});
