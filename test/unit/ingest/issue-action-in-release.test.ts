// An issue-action message may resolve in a release (`inRelease`), taken against real Azurite like a click.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueActionMessageSchema, toIssueAction } from "../../../shared/domain/recovery";
import { StorageClients } from "../../../shared/storage/clients";
import { takeAlert } from "../../../shared/workflows/alert-intake";
import { anAlert } from "../../fixtures/issues";
import { startTestAzurite, type Azurite } from "../../support/azurite";
import { drain } from "../../support/queues";

let azurite: Azurite;
let storage: StorageClients;

beforeAll(async () => {
  azurite = await startTestAzurite();
  storage = new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString });
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
});

const take = (message: unknown) => takeAlert(storage, message, JSON.stringify(message));
const action = (issueId: string, act: Record<string, unknown>) => ({
  schemaVersion: 1,
  kind: "issue-action",
  issueId,
  source: "sentry",
  action: act,
});

describe("an issue-action resolving in a release", () => {
  it("is read as the same action a card's menu sends", () => {
    const message = issueActionMessageSchema.parse(action("sentry:88", { type: "resolve", inRelease: "next" }));
    expect(toIssueAction(message)).toEqual({ type: "resolve", inRelease: "next" });
  });

  it("resolves the issue in the next release after its latest alert's", async () => {
    await take(anAlert({ alertId: "sentry:88:firing:1", issue: { id: "sentry:88", tags: { release: "1.2.3" } } }));
    const result = await take(action("sentry:88", { type: "resolve", inRelease: "next" }));
    expect(result).toMatchObject({
      kind: "accepted",
      issue: { status: "resolved", statusChangedBy: "sentry", resolution: { inRelease: "next", release: "1.2.3" } },
    });
  });

  it("resolves the issue immediately when its alerts name no release: the tool resolved it, the card must not stay open", async () => {
    await take(anAlert({ alertId: "sentry:89:firing:1", issue: { id: "sentry:89", tags: {} } }));
    const result = await take(action("sentry:89", { type: "resolve", inRelease: "current" }));
    expect(result).toMatchObject({ kind: "accepted", duplicate: false, issue: { status: "resolved", statusChangedBy: "sentry" } });
    expect((result as { issue: { resolution?: unknown } }).issue.resolution).toBeUndefined();
  });

  it("goes to alerts-poison when it names a choice other than current or next", async () => {
    await drain(azurite.connectionString, "alerts-poison");
    expect((await take(action("sentry:88", { type: "resolve", inRelease: "latest" }))).kind).toBe("poisoned");
    const [poison] = await drain(azurite.connectionString, "alerts-poison");
    expect((poison!.body as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(["action.inRelease"]);
  });
});
