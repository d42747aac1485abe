import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { BodyTooLargeError, readBody, readCookie } from "../shared/http";
import { confirmLinking, finishLinking, LINK_SESSION_COOKIE, type LinkPage, startLinking } from "../shared/identity/linking";
import { pageResponse } from "../shared/inbound/link-pages";
import { appContext } from "../shared/runtime";

const MAX_CONFIRM_BYTES = 4096;

/** GET /api/link?token=…: where a "link your account" message points; starts the sign-in. */
export async function linkStart(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const result = await startLinking(appContext(context), request.query.get("token"));
  if ("redirect" in result) {
    return {
      status: 302,
      headers: { location: result.redirect, "set-cookie": result.cookie, "cache-control": "no-store", "referrer-policy": "no-referrer" },
    };
  }
  return answer(context, result);
}

/** GET /api/link/callback: the sign-in provider sends the person back here. */
export async function linkCallback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const ctx = appContext(context);
  // The provider redirected to PUBLIC_BASE_URL; rebuild that URL rather than trust the Host header.
  const callbackUrl = new URL(`${ctx.config.publicBaseUrl}/api/link/callback${new URL(request.url).search}`);
  return answer(context, await finishLinking(ctx, callbackUrl, readCookie(request, LINK_SESSION_COOKIE)));
}

/** POST /api/link/confirm: the person confirmed the link on the page the callback showed. */
export async function linkConfirm(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let form: URLSearchParams;
  try {
    form = new URLSearchParams(await readBody(request, MAX_CONFIRM_BYTES));
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    context.warn(`Link refused (413): confirmation body over ${MAX_CONFIRM_BYTES} bytes`);
    return { status: 413 };
  }
  return answer(context, await confirmLinking(appContext(context), readCookie(request, LINK_SESSION_COOKIE), form));
}

function answer(context: InvocationContext, { refused, ...page }: LinkPage): HttpResponseInit {
  if (refused) context.warn(`Link refused (${page.status}): ${refused}`);
  return pageResponse(page);
}
