// A Teams click that meets a failure it can't get past (storage down, the member lookup throttled) still gets words:
// the clicker is told privately that nothing was changed and to try again, never a bare HTTP 500 or a request to
// link an account they may well have. The app's click handling runs in this process against Azurite (through the
// refusing proxy) and the Teams emulator.
import { InvocationContext } from "@azure/functions";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TeamsEmulator, TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import type { AppContext } from "../../shared/context";
import { respondToTeamsActivity } from "../../shared/inbound/teams/respond";
import { readDeliveryMessage } from "../../shared/storage/deliveries";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { teamsActivitySchema } from "../../shared/teams/activity";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { deliverBatch } from "../../shared/workflows/deliver";
import { action, cardOf, cardText } from "../e2e/card-helpers";
import { anAlert } from "../fixtures/issues";
import { startEmulatedApp, type CountedEmulatedApp } from "../support/emulated-app";
import { installInTeamsChannels } from "../support/installations";
import { drain } from "../support/queues";
import { waitFor } from "../support/wait";

let app: CountedEmulatedApp;
let teams: TeamsEmulator;
let ctx: AppContext;
let team: TeamsTeam;
let ana: TeamsUser;
let ben: TeamsUser;
let cleo: TeamsUser;
let dan: TeamsUser;
const hostErrors: string[] = [];

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "teams-click-failures",
    countRequests: true,
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c1f0", tenantId: "72f988bf-0000-4000-8000-000000000c1f" },
  });
  teams = app.teams;
  ctx = app.context();
  ana = teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  ben = teams.addUser({ name: "Ben Okafor", email: "ben@contoso.com" });
  cleo = teams.addUser({ name: "Cleo Park", email: "cleo@contoso.com" });
  dan = teams.addUser({ name: "Dan Reyes", email: "dan@contoso.com" });
  team = teams.addTeam({ name: "Checkout", members: [ana, ben, cleo, dan] });
  await installInTeamsChannels(app.direct, teams, [team.generalChannelId]);
}, 60_000);
afterEach(() => {
  app.proxy.refuse(undefined);
  teams.clearFaults();
});
afterAll(async () => {
  await app?.stop();
});

/** A new issue with its card posted in the team's General channel. */
async function postedCard(issueId: string) {
  const alert = anAlert({
    alertId: `${issueId}-1`,
    issue: { id: issueId, title: issueId },
    targets: [{ provider: "msteams", conversationId: team.generalChannelId }],
  });
  await takeAlert(app.storage, alert, JSON.stringify(alert));
  for (const message of await drain(app.azurite.connectionString, "deliveries")) {
    const read = readDeliveryMessage(message.body);
    if (read.ok) await deliverBatch(ctx, read.batch);
  }
  const posted = teams.messages(team.generalChannelId).find((m) => JSON.stringify(m.activity).includes(`"issueId":"${issueId}"`));
  if (!posted) throw new Error(`no card posted for ${issueId}`);
  return posted;
}

/** What the Functions host answers: the handler's response, or (when it throws) HTTP 500. */
async function hostAnswer(activity: Record<string, unknown>): Promise<{ status: number; jsonBody?: unknown }> {
  const context = new InvocationContext({
    functionName: "teamsMessages",
    logHandler: (level, ...args) => {
      if (level === "error") hostErrors.push(args.join(" "));
    },
  });
  try {
    const response = await respondToTeamsActivity(ctx, teamsActivitySchema.parse(activity), context);
    return { status: response.status ?? 200, jsonBody: response.jsonBody };
  } catch {
    return { status: 500 };
  }
}

async function executeClick(posted: { activityId: string; activity: Record<string, unknown> }, from: TeamsUser, title: string) {
  const button = action(cardOf(posted.activity), title);
  const answer = await hostAnswer(
    teams.invokeAction({ conversation: team.generalChannelId, from, replyToId: posted.activityId, verb: button.verb!, data: button.data }),
  );
  const body = answer.jsonBody as { value?: unknown } | undefined;
  return { status: answer.status, text: typeof body?.value === "string" ? body.value : cardText(body?.value) };
}

async function submitClick(posted: { activityId: string; activity: Record<string, unknown> }, from: TeamsUser, title: string) {
  const button = action(cardOf(posted.activity), title);
  return hostAnswer(
    teams.message({ conversation: team.generalChannelId, from, value: button.fallbackData, replyToId: posted.activityId, mentionBot: false }),
  );
}

/** What the bot said to the user in their 1:1 chat. */
const privateNotes = (user: TeamsUser) =>
  teams.messages(teams.personalConversation(user).id).map((m) => String(m.activity.text ?? cardText(cardOf(m.activity))));

const isLinked = async (user: TeamsUser) =>
  (await new IdentityRepository(app.direct).lookup("msteams", teams.tenantId, user.aadObjectId)).identity !== undefined;
const statusOf = async (issueId: string) => (await new IssueRepository(app.direct).get(issueId))?.issue.status;

describe("a Teams click when storage fails", () => {
  it("Teams mobile (Action.Submit): HTTP 200, the clicker is told privately that something went wrong and to try again, and the reason is logged", async () => {
    const posted = await postedCard("storage-down-submit");
    app.proxy.refuse(({ service }) => (service === "table" ? 503 : undefined));
    const errorsBefore = hostErrors.length;

    const answer = await submitClick(posted, ana, "Resolve");

    expect(answer.status).toBe(200);
    expect(privateNotes(ana).join("\n")).toMatch(/Something went wrong on our side[\s\S]*Try again/);
    expect(hostErrors.slice(errorsBefore).join("\n")).toMatch(/ServerBusy|503/);
    app.proxy.refuse(undefined);
    expect(await statusOf("storage-down-submit")).toBe("unresolved");
  });

  it("Action.Execute: the clicker's answer says the same", async () => {
    const posted = await postedCard("storage-down-execute");
    app.proxy.refuse(({ service }) => (service === "table" ? 503 : undefined));

    const answer = await executeClick(posted, ben, "Resolve");

    expect(answer.status).toBe(200);
    expect(answer.text).toMatch(/Something went wrong on our side[\s\S]*Try again/);
  });
});

describe("a Teams click when looking up the clicker fails for a moment", () => {
  it("Action.Execute, the member lookup throttled (429) on someone's first click: told to try again, not to link; a retry resolves", async () => {
    const posted = await postedCard("lookup-throttled");
    teams.injectFault({ operation: "getMember", status: 429, retryAfterSec: 1 });

    const first = await executeClick(posted, cleo, "Resolve");

    expect(first.status).toBe(200);
    expect(first.text).toMatch(/couldn't check who you are[\s\S]*nothing was changed[\s\S]*try again/i);
    expect(first.text).not.toMatch(/link/i);
    expect(privateNotes(cleo)).toEqual([]);
    expect(await isLinked(cleo)).toBe(false);
    expect(await statusOf("lookup-throttled")).toBe("unresolved");

    const retry = await executeClick(posted, cleo, "Resolve");
    expect(retry.text).toMatch(/Resolved by Cleo Park/);
    expect(await statusOf("lookup-throttled")).toBe("resolved");
  });

  it("Teams mobile (Action.Submit), the member lookup unavailable (503): the private notice says to try again, no link is sent; a retry resolves", async () => {
    const posted = await postedCard("lookup-unavailable");
    teams.injectFault({ operation: "getMember", status: 503 });

    expect((await submitClick(posted, dan, "Resolve")).status).toBe(200);

    const notes = await waitFor(() => (privateNotes(dan).length ? privateNotes(dan) : undefined), { description: "Dan's private notice" });
    expect(notes.join("\n")).toMatch(/couldn't check who you are[\s\S]*nothing was changed[\s\S]*try again/i);
    expect(notes.join("\n")).not.toMatch(/link/i);
    expect(await isLinked(dan)).toBe(false);
    expect(await statusOf("lookup-unavailable")).toBe("unresolved");

    expect((await submitClick(posted, dan, "Resolve")).status).toBe(200);
    expect(await statusOf("lookup-unavailable")).toBe("resolved");
    expect(privateNotes(dan)).toHaveLength(1);
  });
});
