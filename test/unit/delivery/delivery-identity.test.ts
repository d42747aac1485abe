import { describe, expect, it } from "vitest";
import { deliveryId, targetLabel } from "../../../shared/storage/deliveries";
import { mayHaveLanded } from "../../../shared/delivery/retry-policy";
import { classify } from "../../../shared/delivery/teams-sender";
import { targetKey } from "../../../shared/domain/alert";

describe("how a target appears in logs", () => {
  it("people by kind and a stable hash, never their email or object id; channels by id", () => {
    const teamsEmail = targetLabel(targetKey({ provider: "msteams", userEmail: "Ana@Contoso.com" }));
    const slackEmail = targetLabel(targetKey({ provider: "slack", teamId: "T0DEV00001", userEmail: "ana@contoso.com" }));
    const discordEmail = targetLabel(targetKey({ provider: "discord", guildId: "111122223333444455", userEmail: "Ana@Contoso.com" }));
    const objectId = targetLabel(targetKey({ provider: "msteams", aadObjectId: "0b1c2d3e-0000-4000-8000-000000000001" }));
    expect(teamsEmail).toMatch(/^msteams:person#[0-9a-f]{12}$/);
    expect(slackEmail).toMatch(/^slack:T0DEV00001:person#[0-9a-f]{12}$/);
    expect(discordEmail).toMatch(/^discord:111122223333444455:person#[0-9a-f]{12}$/);
    expect(objectId).toMatch(/^msteams:person#[0-9a-f]{12}$/);
    for (const label of [teamsEmail, slackEmail, discordEmail, objectId]) expect(label).not.toMatch(/ana|contoso|0b1c2d3e/i);
    expect(targetLabel(targetKey({ provider: "discord", channelId: "999988887777666655" }))).toBe("discord:999988887777666655");
    expect(targetLabel(targetKey({ provider: "msteams", userEmail: "ana@contoso.com" }))).toBe(teamsEmail);
    expect(targetLabel(targetKey({ provider: "msteams", userEmail: "ben@contoso.com" }))).not.toBe(teamsEmail);
    expect(targetLabel(targetKey({ provider: "slack", teamId: "T0DEV00001", channel: "C0ALERTS01" }))).toBe("slack:T0DEV00001:C0ALERTS01");
  });

  it("the delivery's name in Slack metadata is stable per alert × target and carries no personal data", () => {
    const key = targetKey({ provider: "slack", teamId: "T0DEV00001", userEmail: "ana@contoso.com" });
    expect(deliveryId("alert-1", key)).toBe(deliveryId("alert-1", key));
    expect(deliveryId("alert-2", key)).not.toBe(deliveryId("alert-1", key));
    expect(deliveryId("alert-1", key)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe("a post with no answer", () => {
  it("a timeout or a dropped connection may have landed; a refused connection cannot have", () => {
    const timeout = Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" });
    const reset = new TypeError("fetch failed", { cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) });
    const refused = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    expect(mayHaveLanded(timeout)).toBe(true);
    expect(mayHaveLanded(reset)).toBe(true);
    expect(mayHaveLanded(refused)).toBe(false);
    expect(classify(timeout, 1)).toMatchObject({ kind: "retry", ambiguous: true });
    expect(classify(reset, 1)).toMatchObject({ kind: "retry", ambiguous: true });
    expect(classify(refused, 1)).not.toHaveProperty("ambiguous");
    // A failure before anything was sent (no token) is not a post that may have landed.
    expect(classify(Object.assign(new Error("no token"), { name: "CredentialUnavailableError" }), 1)).not.toHaveProperty("ambiguous");
  });
});
