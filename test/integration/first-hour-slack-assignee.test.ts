import { beforeAll, describe, expect, it } from "vitest";
import { renderSlackMessage, type UsersSelectElement } from "../../shared/cards/slack-message";
import { buildIssueView } from "../../shared/cards/view";
import { IdentityRepository } from "../../shared/storage/identities";
import { slackMessageFor } from "../../shared/delivery/slack-sender";
import { slackViewOptions } from "../../shared/cards/render-issue-card";
import { anIssue } from "../fixtures/issues";
import { useTestStorage } from "../support/test-storage";

// The Slack card's Assign menu shows the current assignee chosen when they are linked in that workspace,
// however they were assigned (from Teams, the issue API, an alert): found by email in the identities table.
let identities: IdentityRepository;

useTestStorage((started) => (identities = new IdentityRepository(started.storage)));
beforeAll(async () => {
  const ben = { email: "ben@contoso.com", name: "Ben Okafor" };
  const linked = [
    { provider: "slack", scope: "T0CONTOSO1", chatUserId: "U0BEN00001", person: ben },
    { provider: "slack", scope: "T0OTHER001", chatUserId: "U0BEN00002", person: ben },
    {
      provider: "msteams",
      scope: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      chatUserId: "00000000-0000-0000-0000-0000000000c1",
      person: { email: "cleo@contoso.com", name: "Cleo Diaz" },
    },
  ] as const;
  const linkedAt = new Date().toISOString();
  for (const link of linked) await identities.link({ ...link, how: "auto", linkedAt });
});

const menu = (
  options: Awaited<ReturnType<typeof slackViewOptions>>,
  issue = anIssue({ assignee: { email: "ben@contoso.com", name: "Ben Okafor" } }),
) =>
  renderSlackMessage(buildIssueView(issue, options))
    .blocks.flatMap((b) => (b.type === "actions" ? b.elements : []))
    .find((e): e is UsersSelectElement => e.type === "users_select");

describe("slackViewOptions", () => {
  it("gives the assignee's user id in that workspace, and only that workspace's", async () => {
    const assigned = anIssue({ assignee: { email: "ben@contoso.com", name: "Ben Okafor" } });
    expect(menu(await slackViewOptions(identities, assigned, "T0CONTOSO1"))?.initial_user).toBe("U0BEN00001");
    expect(menu(await slackViewOptions(identities, assigned, "T0OTHER001"))?.initial_user).toBe("U0BEN00002");
  });

  it("none for an assignee known only in Teams, or no assignee: the card's text still says who", async () => {
    const cleo = anIssue({ assignee: { email: "cleo@contoso.com", name: "Cleo Diaz" } });
    const options = await slackViewOptions(identities, cleo, "T0CONTOSO1");
    expect(menu(options, cleo)).not.toHaveProperty("initial_user");
    expect(JSON.stringify(renderSlackMessage(buildIssueView(cleo, options)))).toContain("Assigned to Cleo Diaz");
    expect(menu(await slackViewOptions(identities, anIssue(), "T0CONTOSO1"), anIssue())).not.toHaveProperty("initial_user");
  });
});

describe("the Slack card as posted and updated", () => {
  it("shows the current assignee chosen in the Assign menu, wherever they were assigned", async () => {
    const assigned = anIssue({ assignee: { email: "ben@contoso.com", name: "Ben Okafor" } });
    const message = await slackMessageFor({ identities }, assigned, "T0CONTOSO1");
    const select = message.blocks
      .flatMap((b) => (b.type === "actions" ? b.elements : []))
      .find((e): e is UsersSelectElement => e.type === "users_select");
    expect(select?.initial_user).toBe("U0BEN00001");
  });
});
