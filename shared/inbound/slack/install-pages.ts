import type { Config } from "../../config";
import { page } from "../../pages";
import type { InstallResult } from "./oauth";

/** The install pages answer 404 while the app has no Slack OAuth client (single-workspace mode, or no Slack). */
export function installNotSetUp(where: "install" | "redirect") {
  const why =
    where === "install"
      ? "This app runs in single-workspace mode (SLACK_BOT_TOKEN) or without Slack: set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install it in workspaces."
      : "Set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET.";
  return page("Slack install is not set up", [why], { status: 404 });
}

/** What the person sees when Slack sends them back: installed, or why not with a way to start again. */
export function installResultPage(config: Config, result: InstallResult) {
  if (!result.ok) {
    const again = { href: `${config.publicBaseUrl}/api/slack/install`, text: "Start the install again" };
    return page("Triage Relay was not installed", [result.reason], { status: result.status, link: again });
  }
  return page(`Triage Relay is installed in ${result.teamName}`, [
    "Invite the app to a channel, then type /triage subscribe <project> there to receive that project's alerts.",
  ]);
}
