// Azure Service Health and Resource Health through the action group webhook (common alert schema): Azure sends
// every event of these stateless activity log alerts as "Fired", and the one saying the incident is over or the
// resource is available again resolves the issue on its card.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam } from "../../dev/emulators/teams";
import { normalizeAzureMonitor } from "../../shared/ingest/azure-monitor";
import { IssueRepository } from "../../shared/storage/issues";
import { sampleText } from "../unit/ingest/fixtures";
import { waitFor } from "../support/wait";
import { cardOf, cardText } from "./card-helpers";
import { startIngestStack } from "./ingest-helpers";
import type { Stack } from "./stack";

const TOKEN = "ingest-token-for-azure-monitor-e2e-0123456789";

let stack: Stack;
let team: TeamsTeam;
let target: string;

beforeAll(async () => {
  ({ stack, team, target } = await startIngestStack({ INGEST_TOKENS: TOKEN, CARD_REFRESH_COALESCE_SECONDS: "1" }));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function send(body: string) {
  const response = await fetch(`${stack.api}/ingest/azure-monitor?token=${TOKEN}&target=${target}`, { method: "POST", body });
  expect(response.status).toBe(202);
}

/** The fixture as another alert instance of the same rule (its own GUID, fired at `firedDateTime`), `change` applied to its event. */
function instance(name: string, guid: string, firedDateTime: string, change: (properties: Record<string, unknown>) => void): string {
  const payload = JSON.parse(sampleText(name));
  payload.data.essentials.alertId = payload.data.essentials.alertId.replace(/[^/]+$/, guid);
  payload.data.essentials.firedDateTime = firedDateTime;
  change(payload.data.alertContext.properties);
  return JSON.stringify(payload);
}

function issueIdOf(name: string): string {
  const normalized = normalizeAzureMonitor(JSON.parse(sampleText(name)));
  if (!normalized.ok) throw new Error(normalized.error);
  return (normalized.messages[0] as { issue: { id: string } }).issue.id;
}

const issue = async (id: string) => (await new IssueRepository(stack.storage).get(id))?.issue;
const cardsShowing = (title: string) => stack.teams.messages(team.generalChannelId).filter((m) => cardText(cardOf(m.activity)).includes(title));
const cardSays = (title: string, text: string) =>
  waitFor(() => cardsShowing(title).some((m) => cardText(cardOf(m.activity)).includes(text)), {
    timeoutMs: 30_000,
    description: `card "${title}" shows "${text}"`,
  });

describe("Service Health: the incident's Resolved update resolves its card", () => {
  it("Active, an update while Active, then Resolved: one card, two events, resolved by azure-monitor", async () => {
    const id = issueIdOf("azure-monitor-service-health");
    await send(sampleText("azure-monitor-service-health"));
    await cardSays("Service Health - East US", "ServiceHealth");
    await send(
      instance("azure-monitor-service-health", "11111111-1111-4111-8111-111111111111", "2019-06-24T12:02:40.1200000Z", (properties) => {
        properties.communication = "<A NEWER MESSAGE>";
      }),
    );
    await waitFor(async () => (await issue(id))?.count === 2, { description: "the update counted as one more event" });

    await send(sampleText("azure-monitor-service-health-resolved"));
    await cardSays("Service Health - East US", "Resolved by azure-monitor");
    expect(await issue(id)).toMatchObject({ status: "resolved", statusChangedBy: "azure-monitor", count: 2, level: "error" });
    expect(cardsShowing("Service Health - East US")).toHaveLength(1);
  });
});

describe("Resource Health: the resource available again resolves its card", () => {
  it("Unavailable, then Available: resolved by azure-monitor, at the outage's level", async () => {
    const id = issueIdOf("azure-monitor-resource-health-unavailable");
    await send(sampleText("azure-monitor-resource-health-unavailable"));
    await cardSays("VM health - wcus-r2-gen2", "wcus-r2-gen2");

    await send(sampleText("azure-monitor-resource-health-available"));
    await cardSays("VM health - wcus-r2-gen2", "Resolved by azure-monitor");
    expect(await issue(id)).toMatchObject({ status: "resolved", statusChangedBy: "azure-monitor", count: 1, level: "error" });
    expect(cardsShowing("VM health - wcus-r2-gen2")).toHaveLength(1);
  });
});
