// The test browser (test/support/browser.ts) behind the OIDC sign-in tests: cookies, redirects and forms
// must behave like a real browser's, or an end-to-end sign-in passes or fails for the wrong reason.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestBrowser } from "../support/browser.js";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const routes: Record<string, Handler> = {
  "/echo": (req, body, res) => json(res, { method: req.method, cookie: req.headers.cookie ?? "", body, url: req.url }),
  "/a/set": (_req, _body, res) => {
    res.setHeader("set-cookie", [
      "implicit=1",
      "scoped=2; Path=/a/deep; HttpOnly; SameSite=Lax",
      "everywhere=3; Path=/",
      "secure=4; Path=/; Secure",
      "gone=5; Path=/; Max-Age=0",
      "stale=6; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
      "maxAgeWins=7; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60",
    ]);
    res.end();
  },
  "/clear": (_req, _body, res) => {
    res.setHeader("set-cookie", "everywhere=; Path=/; Max-Age=0");
    res.end();
  },
  "/see-other": (_req, _body, res) => redirect(res, 303, "/echo?from=303"),
  "/temporary": (_req, _body, res) => redirect(res, 307, "/echo?from=307"),
  "/found-with-cookie": (_req, _body, res) => {
    res.setHeader("set-cookie", "hop=1; Path=/");
    redirect(res, 302, "/see-other");
  },
  "/to-app": (_req, _body, res) => redirect(res, 302, "http://127.0.0.1:9/callback?code=abc"),
  "/posts-itself": (_req, _body, res) => {
    res.setHeader("content-type", "text/html");
    res.end(`<script>document.addEventListener("DOMContentLoaded", () => document.forms[0].submit())</script>
      <form method="post" action="/echo?posted=1"><input type="hidden" name="code" value="abc"></form>`);
  },
  "/form": (_req, _body, res) => {
    res.setHeader("content-type", "text/html");
    res.end(`
      <form method="post" action="/echo?form=one">
        <input type="hidden" name="token" value="a&amp;b &quot;c&quot;">
        <input name="kept" value='single'>
        <input type="checkbox" name="unchecked" value="x">
        <input type="checkbox" name="checked" checked>
        <input type="submit" name="go" value="Go">
      </form>
      <form action="/echo"><input name="q" value="first"></form>`);
  },
};

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const handler = routes[new URL(req.url!, "http://x").pathname];
    if (handler) handler(req, body, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server?.close(resolve)));

describe("TestBrowser", () => {
  it("keeps cookies by path, expiry and Secure, and drops cleared ones", async () => {
    const browser = new TestBrowser();
    await browser.get(`${base}/a/set`);

    expect(browser.cookies(`${base}/a/deep/er`)).toEqual({ scoped: "2", implicit: "1", everywhere: "3", maxAgeWins: "7" });
    expect(browser.cookies(`${base}/a/deeper`)).toEqual({ implicit: "1", everywhere: "3", maxAgeWins: "7" });
    expect(browser.cookies(`${base}/echo`)).toEqual({ everywhere: "3", maxAgeWins: "7" });
    expect(browser.cookies(`https://127.0.0.1:${new URL(base).port}/`)).toMatchObject({ secure: "4" });

    await browser.get(`${base}/clear`);
    expect(browser.cookies(`${base}/echo`)).toEqual({ maxAgeWins: "7" });
  });

  it("sends cookies only to the host:port that set them, most specific path first", async () => {
    const browser = new TestBrowser();
    await browser.get(`${base}/a/set`);
    const echoed = await browser.get(`${base}/echo`);
    expect(JSON.parse(echoed.text).cookie).toBe("everywhere=3; maxAgeWins=7");
    expect(browser.cookies(`http://localhost:${new URL(base).port}/echo`)).toEqual({});
  });

  it("follows redirects like a browser: POST becomes GET on 302/303, stays POST on 307, cookies set on the way", async () => {
    const browser = new TestBrowser();
    const viaFound = await browser.post(`${base}/found-with-cookie`, { a: "1" });
    expect(viaFound.redirects).toEqual([`${base}/see-other`, `${base}/echo?from=303`]);
    expect(viaFound.url).toBe(`${base}/echo?from=303`);
    expect(JSON.parse(viaFound.text)).toMatchObject({ method: "GET", cookie: "hop=1", body: "" });

    const viaTemporary = await browser.post(`${base}/temporary`, { a: "1" });
    expect(JSON.parse(viaTemporary.text)).toMatchObject({ method: "POST", body: "a=1" });
  });

  it("stops before a redirect it is told not to follow and returns that redirect", async () => {
    const response = await new TestBrowser().get(`${base}/to-app`, { stopBefore: (next) => next.pathname === "/callback" });
    expect(response.status).toBe(302);
    expect(response.url).toBe(`${base}/to-app`);
    expect(new URL(response.headers.get("location")!).searchParams.get("code")).toBe("abc");
  });

  it("submits a page's only form when the page submits it on load, as OAuth form_post pages do", async () => {
    const response = await new TestBrowser().get(`${base}/posts-itself`);
    expect(response.redirects).toEqual([`${base}/echo?posted=1`]);
    expect(JSON.parse(response.text)).toMatchObject({ method: "POST", body: "code=abc" });

    const stopped = await new TestBrowser().get(`${base}/posts-itself`, { stopBefore: (next) => next.pathname === "/echo" });
    expect(stopped.url).toBe(`${base}/posts-itself`);
  });

  it("submits a form with its own inputs, decoded, plus overrides", async () => {
    const browser = new TestBrowser();
    const page = await browser.get(`${base}/form`);

    const posted = JSON.parse((await browser.submitForm(page, { fields: { kept: "changed", extra: "1" } })).text);
    expect(posted.method).toBe("POST");
    expect(posted.url).toBe("/echo?form=one");
    expect(Object.fromEntries(new URLSearchParams(posted.body))).toEqual({
      token: 'a&b "c"',
      kept: "changed",
      checked: "on",
      extra: "1",
    });

    const searched = JSON.parse((await browser.submitForm(page, { formAction: "/echo" })).text);
    expect(searched).toMatchObject({ method: "GET", url: "/echo?q=first" });
    await expect(browser.submitForm(page, { formAction: "/nowhere" })).rejects.toThrow(/no form with action/);
  });
});

function redirect(res: ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location }).end();
}

function json(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(value));
}
