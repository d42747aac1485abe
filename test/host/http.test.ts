import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAzurite, type Azurite } from "../support/azurite";
import { startFixtureHost, type FixtureHost } from "./fixture";

let azurite: Azurite;
let host: FixtureHost;

beforeAll(async () => {
  azurite = await startTestAzurite();
  // The fixture has queue functions too; the HTTP tests don't use them.
  process.env.AzureWebJobsStorage = azurite.connectionString;
  host = await startFixtureHost({ maxBodyBytes: 1024 });
});

afterAll(async () => {
  await host?.stop();
  await azurite?.stop();
});

const get = (path: string, init?: RequestInit) => fetch(`${host.url}${path}`, init);

describe("routing", () => {
  it("passes route parameters, query, url and headers to the handler", async () => {
    const response = await get("/api/greet/ana/jr?lang=pt&x=1", { headers: { accept: "application/json" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({
      params: { name: "ana", suffix: "jr" },
      query: { lang: "pt", x: "1" },
      url: `${host.url}/api/greet/ana/jr?lang=pt&x=1`,
      accept: "application/json",
      functionName: "greet",
    });
  });

  it("leaves an absent optional parameter out", async () => {
    expect(await (await get("/api/greet/ana")).json()).toMatchObject({ params: { name: "ana" } });
  });

  it("matches literals case-insensitively and ignores a trailing slash", async () => {
    expect((await get("/API/Greet/ana/")).status).toBe(200);
  });

  it("prefers a literal route over a parameter, and applies constraints", async () => {
    expect(await (await get("/api/items/search")).json()).toEqual({ route: "itemSearch" });
    expect(await (await get("/api/items/7")).json()).toEqual({ route: "itemById", id: "7" });
    expect((await get("/api/items/seven")).status).toBe(404);
  });

  it("gives a catch-all parameter the rest of the path, decoded", async () => {
    expect(await (await get("/api/files/a/b%20c.txt")).json()).toEqual({ path: "a/b c.txt" });
    expect(await (await get("/api/files")).json()).toEqual({ path: null });
  });

  it("answers 404 with an empty body for an unknown route or a method the function doesn't accept", async () => {
    for (const response of [await get("/api/nowhere"), await get("/greet/ana"), await get("/api/echo")]) {
      expect(response.status).toBe(404);
      expect(await response.text()).toBe("");
    }
  });

  it("lists the functions at /admin/functions", async () => {
    const functions = await (await get("/admin/functions")).json();
    expect(functions).toContainEqual({
      name: "greet",
      kind: "http",
      methods: ["GET"],
      route: "/api/greet/{name}/{suffix?}",
      authLevel: "anonymous",
    });
    expect(functions).toContainEqual({ name: "work", kind: "queue", queueName: "work" });
  });
});

describe("requests and responses", () => {
  it("passes the body and returns an HttpResponse's status, headers, cookies and body", async () => {
    const response = await get("/api/echo", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "payload=%7B%7D",
    });
    expect(response.status).toBe(201);
    expect(await response.text()).toBe("payload=%7B%7D");
    expect(response.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(response.headers.get("x-method")).toBe("POST");
    expect(response.headers.getSetCookie()).toEqual(["session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax", "theme=dark"]);
  });

  it("accepts every method the function lists", async () => {
    expect((await get("/api/echo", { method: "PUT", body: "x" })).status).toBe(201);
  });

  it("answers 204 when the handler returns nothing", async () => {
    const response = await get("/api/nothing", { method: "DELETE" });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
  });

  it("answers 413 for a body over the limit without invoking the function", async () => {
    const response = await get("/api/echo", { method: "POST", body: "x".repeat(1025) });
    expect(response.status).toBe(413);
    expect((await get("/api/echo", { method: "POST", body: "x".repeat(1024) })).status).toBe(201);
  });
});

describe("failures and logs", () => {
  it("answers 500 with an empty body when the handler throws, and logs the error but not the request", async () => {
    const response = await get("/api/explode?token=query-secret", { method: "POST", body: "body-secret" });
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("");

    const errorLines = host.logs.filter((line) => line.includes("Executed explode"));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/ERROR \[host\] Executed explode \(Failed, POST \/api\/explode → 500/);
    expect(errorLines[0]).toContain("Error: kaboom: handler failed on purpose");
    expect(errorLines[0]).toMatch(/\n\s+at .*fixtures\/app\.js/);
    expect(host.logs.join("\n")).not.toMatch(/body-secret|query-secret/);
  });

  it("writes handler logs with level and function name, filtered by host.json", async () => {
    await get("/api/greet/zoe");
    expect(host.logs).toContainEqual(expect.stringMatching(/ INFO  \[greet [0-9a-f]{8}\] greeting zoe$/));
    expect(host.logs.join("\n")).not.toContain("debug lines are below");
  });
});

describe("stop", () => {
  it("stops accepting requests", async () => {
    const second = await startFixtureHost();
    expect((await fetch(`${second.url}/api/greet/x`)).status).toBe(200);
    await second.stop();
    await expect(fetch(`${second.url}/api/greet/x`)).rejects.toThrow();
  });
});
