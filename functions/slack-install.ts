import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { readCookie } from "../shared/http";
import { page } from "../shared/pages";
import { getRuntime } from "../shared/runtime";
import { finishInstall, INSTALL_STATE_COOKIE, startInstall } from "../shared/inbound/slack/oauth";

/** GET /api/slack/install: off to Slack's authorize page. */
export async function slackInstall(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const { config } = getRuntime();
  if (!config.slack?.clientId) {
    return page(
      "Slack install is not set up",
      [
        "This app runs in single-workspace mode (SLACK_BOT_TOKEN) or without Slack: set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install it in workspaces.",
      ],
      { status: 404 },
    );
  }
  const { location, cookie } = await startInstall(config);
  return { status: 302, headers: { location, "set-cookie": cookie, "cache-control": "no-store" } };
}

/** GET /api/slack/oauth_redirect: Slack sends the person back here with a code to exchange. */
export async function slackOAuthRedirect(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { config, storage } = getRuntime();
  if (!config.slack?.clientId) return page("Slack install is not set up", ["Set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET."], { status: 404 });
  const cookie = readCookie(request, INSTALL_STATE_COOKIE);
  const result = await finishInstall(
    { config, storage },
    { code: request.query.get("code"), state: request.query.get("state"), error: request.query.get("error") },
    cookie,
  );
  const again = { href: `${config.publicBaseUrl}/api/slack/install`, text: "Start the install again" };
  if (!result.ok) {
    context.warn(`Slack install failed: ${result.reason}`);
    return page("Triage Relay was not installed", [result.reason], { status: result.status, link: again });
  }
  context.log("Slack install completed");
  return page(`Triage Relay is installed in ${result.teamName}`, [
    "Invite the app to a channel, then type /triage subscribe <project> there to receive that project's alerts.",
  ]);
}
