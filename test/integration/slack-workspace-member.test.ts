// Who counts as a person of the workspace a click or an assignee pick comes from, as Slack's users.info tells it:
// the same rule for the clicker and for the assignee (an Enterprise Grid member included, a Slack Connect guest not).
import type { WebClient } from "@slack/web-api";
import { describe, expect, it } from "vitest";
import type { SlackContext } from "../../shared/context";
import { identifySlackUser } from "../../shared/inbound/slack/identify";
import { readSlackUser } from "../../shared/slack/client";
import type { StorageClients } from "../../shared/storage/clients";
import { IdentityRepository } from "../../shared/storage/identities";
import { useTestStorage } from "../support/test-storage";

let storage: StorageClients;
useTestStorage((started) => ({ storage } = started));

type SlackUser = { id: string; team_id?: string; enterprise_user?: { enterprise_id: string; teams: string[] } };

/** Slack's answer to users.info for one user: the Web API client as Slack's SDK shapes it. */
function slackAnswering(user: SlackUser): WebClient {
  const info = { ...user, is_email_confirmed: true, real_name: "Ana Lima", profile: { email: "Ana@Contoso.com" } };
  return { users: { info: async () => ({ ok: true, user: info }) } } as unknown as WebClient;
}

async function asClicker(user: SlackUser, teamId: string) {
  const client = slackAnswering(user);
  const identities = new IdentityRepository(storage);
  const deps = { config: { autoLink: true }, slack: { client: async () => client }, identities, log: () => undefined } as unknown as Pick<
    SlackContext,
    "config" | "slack" | "identities" | "log"
  >;
  return (await identifySlackUser(deps, teamId, user.id, "Ana")).person;
}

describe("a Slack user as a person of the workspace", () => {
  const grid = { enterprise_id: "E0GRID", teams: ["T0HOME", "T0WORK"] };
  it.each([
    ["a member of the workspace", { id: "U1", team_id: "T0WORK" }],
    ["an Enterprise Grid member whose home is another workspace of the org", { id: "W1", team_id: "T0HOME", enterprise_user: grid }],
    ["an Enterprise Grid member answered without a workspace", { id: "W2", enterprise_user: grid }],
  ])("%s: clicker and assignee alike", async (_, user) => {
    expect(await readSlackUser(slackAnswering(user), "T0WORK", user.id)).toEqual({ kind: "person", email: "ana@contoso.com", name: "Ana Lima" });
    expect(await asClicker(user, "T0WORK")).toEqual({ email: "ana@contoso.com", name: "Ana Lima" });
  });

  it("a Slack Connect guest from another organisation is neither", async () => {
    const guest = { id: "U9", team_id: "T0OTHER" };
    expect((await readSlackUser(slackAnswering(guest), "T0WORK", guest.id)).kind).toBe("other-workspace");
    expect(await asClicker(guest, "T0WORK")).toBeUndefined();
  });
});
