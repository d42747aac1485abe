// `npm run playground` as a developer uses it: Microsoft 365 Agents Playground in Chromium, talking to the
// app through the signing bridge, with the app's Bot Framework auth as strict as in production.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAYGROUND_CONFIG, readPlaygroundWorld } from "../../dev/playground/playground";
import { waitFor } from "../support/wait";
import { freePort } from "./stack";
import { CHROMIUM, CHROMIUM_ARGS } from "../support/chromium";

const ROOT = resolve(__dirname, "..", "..");
/** Alert to card, and a click to its update, go through queues: seconds, more on a busy machine. */
const CARD_TIMEOUT = 30_000;

const world = readPlaygroundWorld(readFileSync(PLAYGROUND_CONFIG, "utf8"));
let child: ChildProcess;
let exited: Promise<number | null>;
const output: string[] = [];
let appUrl: string;
let playgroundUrl: string;
let bridgeUrl: string;
let dataDir: string;
let ingestToken: string;
let browser: Browser;
let page: Page;
/** Requests the Playground's page tried to make off this machine (its web fonts): refused. */
const offMachine: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`The Playground test drives Chromium at ${CHROMIUM}, which is missing: install it (apt-get install chromium).`);
  const [port, playgroundPort] = [await freePort(), await freePort()];
  dataDir = mkdtempSync(join(tmpdir(), "triage-playground-"));
  child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "dev", "playground", "start.ts")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      PLAYGROUND_PORT: String(playgroundPort),
      TRIAGE_DEV_DATA: dataDir,
      NO_COLOR: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  exited = new Promise((done) => child.once("exit", (code) => done(code)));
  await waitFor(() => output.join("").includes("Ctrl-C stops everything") || undefined, {
    timeoutMs: 90_000,
    description: `npm run playground to be ready:\n${output.join("")}`,
  });
  const printed = output.join("");
  appUrl = /App\s+(http:\/\/\S+)/.exec(printed)![1]!;
  playgroundUrl = /running in Microsoft 365 Agents Playground: (http:\/\/\S+)/.exec(printed)![1]!;
  ingestToken = /Dev ingest token (\S+)/.exec(printed)![1]!;
  bridgeUrl = /Signing bridge\s+(http:\/\/\S+)/.exec(printed)![1]!;

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.route("**/*", (route) => {
    const { hostname, href } = new URL(route.request().url());
    if (hostname === "127.0.0.1" || hostname === "localhost") return route.continue();
    offMachine.push(href);
    return route.abort();
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) child.kill("SIGINT");
  if (exited) await exited;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("the Playground config", () => {
  it("refuses ids the app can't target, such as the Playground's built-in team-id, naming each with what is expected", () => {
    const builtIn = readFileSync(PLAYGROUND_CONFIG, "utf8")
      .replace(/^  id: 19:playground-checkout-general@thread\.tacv2$/m, "  id: team-id")
      .replace(/^tenantId: .*$/m, "tenantId: 00000000-0000-0000-0000-0000000000001");
    let message = "";
    try {
      readPlaygroundWorld(builtIn);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("team.id: a Teams conversation id such as 19:…@thread.tacv2");
    expect(message).toContain("tenantId: a tenant id (a GUID)");
  });
});

describe("npm run playground", () => {
  it("prints the Playground's URL, the command line and every conversation id of its config", () => {
    const printed = output.join("");
    for (const conversationId of [...world.channels.map((channel) => channel.id), world.groupChat.id, world.personalChatId]) {
      expect(printed).toContain(conversationId);
    }
    expect(printed).toMatch(/curl -H "Authorization: Bearer \S+" --data @test\/fixtures\/ingest\/alertmanager-firing\.json/);
    expect(world.tenantId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(world.channels.every((channel) => /^19:.+@thread\.tacv2$/.test(channel.id))).toBe(true);
    expect(world.personalChatId).toMatch(/^a:/);
  });

  it("installs in a channel with a welcome card; an alert's card renders; Resolve turns it Resolved", async () => {
    const general = world.channels[0]!;
    await page.goto(playgroundUrl);
    // Opening a channel installs the app there, as adding it in Teams does.
    await page.locator(`[role=treeitem][aria-label="${world.team.name} - ${general.name}"]`).click();
    const welcome = page.locator(".ac-adaptiveCard", { hasText: "Triage Relay is ready" });
    await welcome.waitFor({ timeout: CARD_TIMEOUT });
    await expect(welcome.innerText()).resolves.toContain(general.id);

    const ingest = await fetch(`${appUrl}/api/ingest/alertmanager?target=msteams:${encodeURIComponent(general.id)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ingestToken}`, "content-type": "application/json" },
      body: readFileSync(join(ROOT, "test", "fixtures", "ingest", "alertmanager-firing.json")),
    });
    expect(ingest.status).toBe(202);
    const card = page.locator(".ac-adaptiveCard", { hasText: "BlackBox Probe Failure: https://server.example.org" });
    await card.waitFor({ timeout: CARD_TIMEOUT });

    await card.getByRole("button", { name: "Resolve", exact: true }).click();
    await card.getByText(`Resolved by ${world.user.name}`).waitFor({ timeout: CARD_TIMEOUT });
    await expect(card.getByRole("button", { name: "Unresolve", exact: true }).count()).resolves.toBe(1);
    // Everything the app and the Playground did stayed on this machine.
    expect(offMachine.filter((url) => !url.startsWith("https://res-1.cdn.office.net/"))).toEqual([]);
  }, 90_000);

  it("the app's auth is unchanged: an unsigned activity posted straight to the app is refused", async () => {
    const unsigned = await fetch(`${appUrl}/api/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "message",
        text: "help",
        serviceUrl: "http://127.0.0.1:1/_connector",
        channelId: "msteams",
        conversation: { id: world.personalChatId },
      }),
    });
    expect(unsigned.status).toBe(401);
  });

  it("the bridge signs only the Playground's activities: another serviceUrl, or a body that isn't an activity, is a 400", async () => {
    const post = (body: string) => fetch(bridgeUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
    const elsewhere = await post(
      JSON.stringify({ type: "message", text: "help", serviceUrl: "https://smba.trafficmanager.net/teams/", channelId: "msteams" }),
    );
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.text()).toMatch(/not the Playground's/);
    expect((await post("not json")).status).toBe(400);
    expect((await post(JSON.stringify({ type: "message" }))).status).toBe(400);
  });

  it("the Playground, the bridge and the app listen on loopback only", async () => {
    const addresses = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address && address.family === "IPv4" && !address.internal)
      .map((address) => address!.address);
    for (const url of [playgroundUrl, bridgeUrl, appUrl]) {
      for (const address of addresses) {
        const elsewhere = new URL(url);
        elsewhere.hostname = address;
        await expect(fetch(elsewhere, { signal: AbortSignal.timeout(5_000) }), `${url} on ${address}`).rejects.toThrow();
      }
    }
  });

  // Last: it stops the run.
  it("one Ctrl-C stops the app, the bridge and the Playground", async () => {
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    for (const url of [playgroundUrl, bridgeUrl, `${appUrl}/api/health`]) await expect(fetch(url), url).rejects.toThrow();
  });
});
