import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { readCookie } from "../shared/http";
import { installNotSetUp, installResultPage } from "../shared/inbound/slack/install-pages";
import { finishInstall, INSTALL_STATE_COOKIE, startInstall } from "../shared/inbound/slack/oauth";
import { appContext, getRuntime } from "../shared/runtime";

/** GET /api/slack/install: off to Slack's authorize page. */
export async function slackInstall(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const { config } = getRuntime();
  if (!config.slack?.clientId) return installNotSetUp("install");
  const { location, cookie } = await startInstall(config);
  return { status: 302, headers: { location, "set-cookie": cookie, "cache-control": "no-store" } };
}

/** GET /api/slack/oauth_redirect: Slack sends the person back here with a code to exchange. */
export async function slackOAuthRedirect(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const ctx = appContext(context);
  if (!ctx.config.slack?.clientId) return installNotSetUp("redirect");
  const query = { code: request.query.get("code"), state: request.query.get("state"), error: request.query.get("error") };
  const result = await finishInstall(ctx, query, readCookie(request, INSTALL_STATE_COOKIE));
  if (result.ok) context.log("Slack install completed");
  else context.warn(`Slack install failed: ${result.reason}`);
  return installResultPage(ctx.config, result);
}
