// The dev chat page: what the bot posted in every Teams, Slack and Discord conversation of the emulators,
// rendered like the clients do, with buttons that reach the app through the emulators as a chosen demo user.
import type { DiscordEmulator } from "../emulators/discord";
import type { SlackEmulator } from "../emulators/slack";
import type { TeamsEmulator } from "../emulators/teams";
import { queueReport, queueService, requeue, UsageError } from "../queues";
import { Directory, type SlackWorkspacePeople } from "./directory";
import { DiscordActions } from "./discord-actions";
import { HttpError } from "./http-error";
import { LocalLog } from "./local-log";
import { chatRoutes } from "./routes";
import { listen } from "./server";
import { SlackActions } from "./slack-actions";
import { TeamsActions } from "./teams-actions";
import { TestAlerts } from "./test-alert";
import { Timeline } from "./timeline";

export type { SlackWorkspacePeople } from "./directory";

export interface ChatPageOptions {
  /** Default 0: any free port. The page only ever listens on 127.0.0.1. */
  port?: number;
  teams: TeamsEmulator;
  slack: SlackEmulator;
  /** Its guilds' channels, DMs and users are listed; without it the page has no Discord. */
  discord?: DiscordEmulator;
  /** The app's local host, e.g. `http://localhost:7071`. */
  appUrl: string;
  /** Slack people and channels: the Slack emulator has no API that lists them. */
  people?: { slack?: SlackWorkspacePeople[] };
  /** For "Send test alert". Default: `AzureWebJobsStorage`, read when an alert is sent. */
  storageConnectionString?: string;
  /** The app's slash command; default `/triage`. */
  slashCommand?: string;
}

export interface ChatPage {
  /** `http://127.0.0.1:<port>` */
  url: string;
  stop(): Promise<void>;
}

export async function startChatPage(options: ChatPageOptions): Promise<ChatPage> {
  const appUrl = options.appUrl.replace(/\/+$/, "");
  const slashCommand = options.slashCommand ?? "/triage";
  const directory = new Directory(options.teams, options.slack, options.people?.slack ?? [], options.discord);
  const log = new LocalLog();
  const timeline = new Timeline(options.teams, options.slack, directory, log, options.discord);
  const routes = chatRoutes({
    directory,
    timeline,
    teams: new TeamsActions(options.teams, `${appUrl}/api/messages`, log),
    slack: new SlackActions(options.slack, appUrl, slashCommand, log),
    ...(options.discord ? { discord: new DiscordActions(options.discord, appUrl) } : {}),
    alerts: new TestAlerts(() => options.storageConnectionString ?? process.env.AzureWebJobsStorage),
    queues: {
      report: () => queueReport(queueService(options.storageConnectionString)),
      requeue: (queue, messageId) =>
        requeue(queueService(options.storageConnectionString), queue, messageId).catch((error: unknown) => {
          throw error instanceof UsageError ? new HttpError(400, error.message) : error;
        }),
    },
    slashCommand,
  });
  const page = await listen(options.port ?? 0, routes);
  return {
    ...page,
    stop: async () => {
      timeline.stop();
      await page.stop();
    },
  };
}
