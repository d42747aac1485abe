import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { confirmLinking, finishLinking, LINK_SESSION_COOKIE, startLinking, type Linker } from "../shared/identity/linking";
import { BodyTooLargeError, readBody } from "../shared/http";
import { getRuntime } from "../shared/runtime";

function linker(context: InvocationContext): Linker {
  const { config, storage, teams, slackTokens } = getRuntime();
  return { config, storage, teams: teams.connector, slackTokens, log: (line) => context.log(line) };
}

/** GET /api/link?token=…: where a "link your account" message points; starts the sign-in. */
export async function linkStart(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const result = await startLinking(linker(context), request.query.get("token"));
  if ("redirect" in result) {
    return { status: 302, headers: { location: result.redirect, "set-cookie": result.cookie, "cache-control": "no-store", "referrer-policy": "no-referrer" } };
  }
  context.log(`Link page: ${result.status}`);
  return result;
}

/** GET /api/link/callback: the sign-in provider sends the person back here. */
export async function linkCallback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { config } = getRuntime();
  const session = sessionCookie(request);
  // The provider redirected to PUBLIC_BASE_URL; rebuild that URL rather than trust the Host header.
  const callbackUrl = new URL(`${config.publicBaseUrl}/api/link/callback${new URL(request.url).search}`);
  return withCookie(await finishLinking(linker(context), callbackUrl, session));
}

/** POST /api/link/confirm: the person confirmed the link on the page the callback showed. */
export async function linkConfirm(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let form: URLSearchParams;
  try {
    form = new URLSearchParams(await readBody(request, 4096));
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { status: 413 };
    throw error;
  }
  return withCookie(await confirmLinking(linker(context), sessionCookie(request), form));
}

function sessionCookie(request: HttpRequest): string | undefined {
  return (request.headers.get("cookie") ?? "")
    .split(";")
    .map((part) => part.trim().split("="))
    .find(([name]) => name === LINK_SESSION_COOKIE)?.[1];
}

function withCookie({ cookie, ...page }: Awaited<ReturnType<typeof confirmLinking>>): HttpResponseInit {
  return { ...page, headers: { ...page.headers, ...(cookie ? { "set-cookie": cookie } : {}) } };
}
