import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { BodyTooLargeError, readBody, readCookie } from "../shared/http";
import { confirmLinking, finishLinking, LINK_SESSION_COOKIE, startLinking } from "../shared/identity/linking";
import { pageResponse } from "../shared/inbound/link-pages";
import { appContext } from "../shared/runtime";

/** GET /api/link?token=…: where a "link your account" message points; starts the sign-in. */
export async function linkStart(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const result = await startLinking(appContext(context), request.query.get("token"));
  if ("redirect" in result) {
    return {
      status: 302,
      headers: { location: result.redirect, "set-cookie": result.cookie, "cache-control": "no-store", "referrer-policy": "no-referrer" },
    };
  }
  context.log(`Link page: ${result.status}`);
  return result;
}

/** GET /api/link/callback: the sign-in provider sends the person back here. */
export async function linkCallback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const ctx = appContext(context);
  // The provider redirected to PUBLIC_BASE_URL; rebuild that URL rather than trust the Host header.
  const callbackUrl = new URL(`${ctx.config.publicBaseUrl}/api/link/callback${new URL(request.url).search}`);
  return pageResponse(await finishLinking(ctx, callbackUrl, readCookie(request, LINK_SESSION_COOKIE)));
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
  return pageResponse(await confirmLinking(appContext(context), readCookie(request, LINK_SESSION_COOKIE), form));
}
