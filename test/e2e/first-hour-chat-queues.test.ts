// The dev chat page's Queues view in Chromium, against Azurite: lengths, poison reasons, re-queue.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSlackEmulator, type SlackEmulator } from "../../dev/emulators/slack";
import { startTeamsEmulator, type TeamsEmulator } from "../../dev/emulators/teams";
import { parseAlert } from "../../shared/domain/alert";
import { StorageClients } from "../../shared/storage/clients";
import { poisonFor } from "../../shared/workflows/intake-result";
import { startTestAzurite, type Azurite } from "../support/azurite";
import { messageCount, sendBase64Json } from "../support/queues";
import { openChatPage, type ChatPageInBrowser } from "../support/chat-page-browser";

let azurite: Azurite;
let teams: TeamsEmulator;
let slack: SlackEmulator;
let chat: ChatPageInBrowser;
let page: Page;

// expect.poll gives up after 1 s by default; the page refreshes every second, and CI is busy.
const eventually = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 30_000, interval: 100 });

beforeAll(async () => {
  azurite = await startTestAzurite();
  teams = await startTeamsEmulator({ appId: "6a1d3c2e-0000-4000-8000-00000000b07a", tenantId: "72f988bf-0000-4000-8000-000000000001" });
  slack = await startSlackEmulator({ signingSecret: "s".repeat(32), clientId: "1.2", clientSecret: "secret" });
  // No app behind it: the Queues view only reads storage.
  chat = await openChatPage({ teams, slack, appUrl: "http://127.0.0.1:9", storageConnectionString: azurite.connectionString });
  page = chat.page;
});

afterAll(async () => {
  await chat?.stop();
  await Promise.all([teams?.stop(), slack?.stop(), azurite?.stop()]);
});

describe("the dev chat page's Queues view", () => {
  it("shows each queue and poison queue, a poison message's reason, and re-queues it", async () => {
    const original = JSON.stringify({ schemaVersion: 1, alertId: "a-1", targets: [{ provider: "msteams", conversationId: "team-id" }] });
    const parsed = parseAlert(original);
    if (parsed.ok) throw new Error("expected a bad alert");
    await new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString }).send(
      "alerts-poison",
      poisonFor(parsed.error, parsed.issues, original),
    );
    await sendBase64Json(azurite.connectionString, "deliveries", { waiting: true });

    await page.goto(chat.url);
    await page.getByRole("button", { name: "Queues" }).click();
    const dialog = page.getByRole("dialog", { name: "Queues" });
    await eventually(() => dialog.getByRole("row", { name: /^deliveries\b/ }).textContent()).toMatch(/deliveries\s*1\s*deliveries-poison/);
    const poison = dialog.getByRole("region", { name: "alerts-poison" });
    await eventually(() => poison.textContent()).toContain("a Teams conversation id such as 19:");

    await poison.getByRole("button", { name: "Re-queue" }).click();
    await eventually(() => dialog.locator(".queues-status").textContent()).toContain("moved from alerts-poison back to alerts");
    expect(await messageCount(azurite.connectionString, "alerts-poison")).toBe(0);
    expect(await messageCount(azurite.connectionString, "alerts")).toBe(1);
    expect(chat.pageErrors).toEqual([]);
  });
});
