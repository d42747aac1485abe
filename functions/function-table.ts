import { alertsQueue } from "./alerts-queue";
import { cardRefreshQueue } from "./card-refresh-queue";
import { deliveriesQueue } from "./deliveries-queue";
import { discordInteractions } from "./discord-interactions";
import { health } from "./health";
import { ingestAlerts } from "./ingest";
import { issueApi } from "./issue-api";
import { memberSyncQueue } from "./member-sync-queue";
import { linkCallback, linkConfirm, linkStart } from "./link";
import { slackActionsQueue } from "./slack-actions-queue";
import { slackCommands } from "./slack-commands";
import { slackEvents } from "./slack-events";
import { slackInstall, slackOAuthRedirect } from "./slack-install";
import { slackInteractions } from "./slack-interactions";
import type { FunctionDefinition } from "./table";
import { teamsMessages } from "./teams-messages";

/** Every function of the app, in one table: registered with Azure Functions by index.ts, served by dev/host locally. */
export const functionTable: FunctionDefinition[] = [
  { name: "health", kind: "http", route: "health", methods: ["GET"], authLevel: "anonymous", handler: health },
  { name: "teamsMessages", kind: "http", route: "messages", methods: ["POST"], authLevel: "anonymous", handler: teamsMessages },
  { name: "slackEvents", kind: "http", route: "slack/events", methods: ["POST"], authLevel: "anonymous", handler: slackEvents },
  { name: "slackCommands", kind: "http", route: "slack/commands", methods: ["POST"], authLevel: "anonymous", handler: slackCommands },
  { name: "slackInteractions", kind: "http", route: "slack/interactions", methods: ["POST"], authLevel: "anonymous", handler: slackInteractions },
  { name: "slackInstall", kind: "http", route: "slack/install", methods: ["GET"], authLevel: "anonymous", handler: slackInstall },
  { name: "slackOAuthRedirect", kind: "http", route: "slack/oauth_redirect", methods: ["GET"], authLevel: "anonymous", handler: slackOAuthRedirect },
  {
    name: "discordInteractions",
    kind: "http",
    route: "discord/interactions",
    methods: ["POST"],
    authLevel: "anonymous",
    handler: discordInteractions,
  },
  { name: "issueApi", kind: "http", route: "issues/{id}", methods: ["GET", "PATCH"], authLevel: "function", handler: issueApi },
  { name: "ingest", kind: "http", route: "ingest/{source}", methods: ["POST"], authLevel: "anonymous", handler: ingestAlerts },
  { name: "linkStart", kind: "http", route: "link", methods: ["GET"], authLevel: "anonymous", handler: linkStart },
  { name: "linkCallback", kind: "http", route: "link/callback", methods: ["GET"], authLevel: "anonymous", handler: linkCallback },
  { name: "linkConfirm", kind: "http", route: "link/confirm", methods: ["POST"], authLevel: "anonymous", handler: linkConfirm },
  { name: "alertsQueue", kind: "queue", queueName: "alerts", handler: alertsQueue },
  { name: "deliveriesQueue", kind: "queue", queueName: "deliveries", handler: deliveriesQueue },
  { name: "cardRefreshQueue", kind: "queue", queueName: "card-refresh", handler: cardRefreshQueue },
  { name: "memberSyncQueue", kind: "queue", queueName: "member-sync", handler: memberSyncQueue },
  { name: "slackActionsQueue", kind: "queue", queueName: "slack-actions", handler: slackActionsQueue },
];
