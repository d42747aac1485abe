import { loadedOnFirstCall } from "./on-first-call";
import type { FunctionDefinition, HttpFunction, HttpMethod, QueueFunction } from "./table";

/** Loads a function's module, giving its handler: on the first call, so a new instance starts without compiling every handler. */
type Load<F extends FunctionDefinition> = () => Promise<F["handler"]>;

type AuthLevel = HttpFunction["authLevel"];

function http(name: string, route: string, methods: HttpMethod[], load: Load<HttpFunction>, authLevel: AuthLevel = "anonymous"): HttpFunction {
  return { name, kind: "http", route, methods, authLevel, handler: loadedOnFirstCall(load) };
}

/** Every function of the app, in one table: registered with Azure Functions by index.ts, served by dev/host locally. */
export const functionTable: FunctionDefinition[] = [
  http("health", "health", ["GET"], () => import("./health").then((m) => m.health)),
  http("teamsMessages", "messages", ["POST"], () => import("./teams-messages").then((m) => m.teamsMessages)),
  http("slackEvents", "slack/events", ["POST"], () => import("./slack-events").then((m) => m.slackEvents)),
  http("slackCommands", "slack/commands", ["POST"], () => import("./slack-commands").then((m) => m.slackCommands)),
  http("slackInteractions", "slack/interactions", ["POST"], () => import("./slack-interactions").then((m) => m.slackInteractions)),
  http("slackInstall", "slack/install", ["GET"], () => import("./slack-install").then((m) => m.slackInstall)),
  http("slackOAuthRedirect", "slack/oauth_redirect", ["GET"], () => import("./slack-install").then((m) => m.slackOAuthRedirect)),
  http("discordInteractions", "discord/interactions", ["POST"], () => import("./discord-interactions").then((m) => m.discordInteractions)),
  http("issueApi", "issues/{id}", ["GET", "PATCH"], () => import("./issue-api").then((m) => m.issueApi), "function"),
  http("ingest", "ingest/{source}", ["POST"], () => import("./ingest").then((m) => m.ingestAlerts)),
  http("linkStart", "link", ["GET"], () => import("./link").then((m) => m.linkStart)),
  http("linkCallback", "link/callback", ["GET"], () => import("./link").then((m) => m.linkCallback)),
  http("linkConfirm", "link/confirm", ["POST"], () => import("./link").then((m) => m.linkConfirm)),
  queue("alertsQueue", "alerts", () => import("./alerts-queue").then((m) => m.alertsQueue)),
  queue("deliveriesQueue", "deliveries", () => import("./deliveries-queue").then((m) => m.deliveriesQueue)),
  queue("cardRefreshQueue", "card-refresh", () => import("./card-refresh-queue").then((m) => m.cardRefreshQueue)),
  queue("memberSyncQueue", "member-sync", () => import("./member-sync-queue").then((m) => m.memberSyncQueue)),
  queue("slackActionsQueue", "slack-actions", () => import("./slack-actions-queue").then((m) => m.slackActionsQueue)),
];

/** A queue function (on `AzureWebJobsStorage`) whose module loads on its first call. */
function queue(name: string, queueName: string, load: Load<QueueFunction>): QueueFunction {
  return { name, kind: "queue", queueName, handler: loadedOnFirstCall(load) };
}
