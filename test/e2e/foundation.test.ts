import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { drain, sendBase64Json, sendRawText, waitForMessages } from "../support/queues";
import { waitFor } from "../support/wait";
import { logsOnceLogged } from "../support/host-process";
import { startStack, type Stack } from "./stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe("foundation, through the local host running the built bundle", () => {
  it("GET /api/health answers 200 with the version and reachable storage", async () => {
    const response = await fetch(`${stack.api}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", version: "0.1.0", storage: "reachable" });
  });

  it("an unknown route is a 404", async () => {
    expect((await fetch(`${stack.api}/nope`)).status).toBe(404);
  });

  it("a base64 alert on the alerts queue becomes an issue row and a planned delivery", async () => {
    const alert = anAlert({
      alertId: "e2e-alert-1",
      issue: { id: "e2e-issue-1", count: 3 },
      targets: [{ provider: "msteams", conversationId: "19:unknown@thread.tacv2" }],
    });
    await sendBase64Json(stack.azurite.connectionString, "alerts", alert);
    const issue = await waitFor(() => new IssueRepository(stack.storage).get("e2e-issue-1"), { timeoutMs: 30_000 });
    expect(issue.issue).toMatchObject({ title: alert.issue.title, count: 3, status: "unresolved", level: "error" });
    // The deliveries consumer takes the message at once; this conversation was never installed, so it says so.
    const row = await waitFor(
      async () => (await new DeliveryRepository(stack.storage).listForAlert("e2e-alert-1")).find((r) => r.state === "sent" || r.state === "dead"),
      { timeoutMs: 30_000 },
    );
    expect(row).toMatchObject({ state: "dead", reason: expect.stringMatching(/no record of this conversation/) });
  });

  it("a malformed alert lands in alerts-poison at once, with its reason and the original text", async () => {
    const bad = { schemaVersion: 1, alertId: "bad-1", issue: { id: "x", title: "", level: "panic" } };
    await sendBase64Json(stack.azurite.connectionString, "alerts", bad);
    const [poison] = await waitForMessages(stack.azurite.connectionString, "alerts-poison", 1, 30_000);
    const body = poison!.body as { error: string; issues: { path: string; message: string }[]; original: string };
    expect(body.error).toMatch(/alert schema v1/);
    expect(body.issues.map((i) => i.path)).toEqual(expect.arrayContaining(["issue.title", "issue.level", "issue.project", "issue.count"]));
    expect(JSON.parse(body.original)).toEqual(bad);
    await logsOnceLogged(stack.host, /moved to alerts-poison/);
    await drain(stack.azurite.connectionString, "alerts-poison");
  });

  it("a message that is not even JSON is poisoned at once too", async () => {
    await sendRawText(stack.azurite.connectionString, "alerts", Buffer.from("not json at all").toString("base64"));
    const [poison] = await waitForMessages(stack.azurite.connectionString, "alerts-poison", 1, 30_000);
    expect(poison!.body).toMatchObject({ error: "The message is not JSON.", original: "not json at all" });
    await drain(stack.azurite.connectionString, "alerts-poison");
  });

  it("a handler that throws is retried maxDequeueCount times, then its message is kept on the poison queue", async () => {
    await sendBase64Json(stack.azurite.connectionString, "deliveries", { alertId: "broken" });
    const [poison] = await waitForMessages(stack.azurite.connectionString, "deliveries-poison", 1, 45_000);
    expect(poison!.body).toEqual({ alertId: "broken" });
    const failures = () => stack.host.logs().filter((line) => line.includes("delivery message malformed"));
    await waitFor(() => failures().length >= 5, { description: "the 5 failures logged" });
    expect(failures().length).toBe(5);
  }, 60_000);
});
