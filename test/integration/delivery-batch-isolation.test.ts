// One target failing before its post (its storage read refused) leaves the batch's other posts recorded. A batch
// that threw instead left the cards it had posted unrecorded, "sending": their retry could only post them again.
// The app's delivery workflow runs in this process against Azurite (through the proxy) and the emulators.
import { afterAll, beforeAll, expect, it } from "vitest";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import type { AppContext } from "../../shared/context";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { IssueRepository } from "../../shared/storage/issues";
import { deliverBatch } from "../../shared/workflows/deliver";
import { anIssue } from "../fixtures/issues";
import { startEmulatedApp, type CountedEmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace, installInTeamsChannels } from "../support/installations";

let app: CountedEmulatedApp;
let deliverer: AppContext;
const logged: string[] = [];

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "isolation",
    countRequests: true,
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d015", tenantId: "72f988bf-0000-4000-8000-000000000007" },
  });
  deliverer = app.context({ log: (line) => logged.push(line) });
});
afterAll(async () => {
  await app?.stop();
});

it("the Teams roster read is refused: the Slack card is recorded sent, Teams is retried, and each conversation ends with one card", async () => {
  const { storage, teams, slack, proxy } = app;
  const issueId = "isolation-1";
  const alertId = "alert-isolation-1";
  await new IssueRepository(storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] }));
  const team = teams.addTeam({ name: "Isolation", members: [] });
  await installInTeamsChannels(storage, teams, [team.generalChannelId]);
  const workspace = slack.addWorkspace({ name: "Isolation" });
  await installInSlackWorkspace(storage, workspace);
  const channel = slack.addChannel(workspace.teamId, { name: "alerts-isolation" }).id;
  const teamsTarget: AlertTarget = { provider: "msteams", conversationId: team.generalChannelId };
  const slackTarget: AlertTarget = { provider: "slack", teamId: workspace.teamId, channel };
  const targets = [teamsTarget, slackTarget].map((target) => ({ targetKey: targetKey(target), target }));
  const repository = new DeliveryRepository(storage);
  await repository.planMany(alertId, issueId, targets);

  // The Teams card offers the tenant's people to assign: that read is refused (a role assignment not yet in effect).
  proxy.refuse(({ service, method, url }) =>
    service === "table" && method === "GET" && url.includes("/identities") && url.includes("msteams") ? 403 : undefined,
  );
  let first: Map<string, string>;
  try {
    first = await deliverBatch(deliverer, { alertId, issueId, targets });
  } finally {
    proxy.refuse(undefined);
  }
  expect(Object.fromEntries(first)).toEqual({ [targets[0]!.targetKey]: "retry", [targets[1]!.targetKey]: "sent" });
  const rows = new Map((await repository.listForAlert(alertId)).map((row) => [row.targetKey, row.state]));
  expect(Object.fromEntries(rows)).toEqual({ [targets[0]!.targetKey]: "pending", [targets[1]!.targetKey]: "sent" });

  // The queued retry: only Teams is left to post.
  const second = await deliverBatch(deliverer, { alertId, issueId, targets });
  expect(second.get(targets[0]!.targetKey)).toBe("sent");
  expect(teams.messages(team.generalChannelId)).toHaveLength(1);
  expect(slack.messages(channel).filter((m) => !m.ephemeral)).toHaveLength(1);
  expect(logged.join("\n")).toMatch(/retry in \d+s \(failed before posting: RestError 403 AuthorizationPermissionMismatch\)/);
  expect(logged.join("\n")).not.toMatch(/Refused by the test/);
});
